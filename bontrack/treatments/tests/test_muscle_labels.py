"""Issue 13 item 4: the muscle label map is built once per process (the `muscle_label` template
filter used to rebuild the rules vocabulary, deep-copying every protocol, on every call)."""

from __future__ import annotations

import pytest

from bontrack.treatments import facts
from bontrack.treatments.templatetags.treatments_tags import muscle_label


def test_the_label_map_is_built_once_and_cannot_be_changed():
    labels = facts.muscle_labels()
    assert facts.muscle_labels() is labels
    code = next(iter(labels))
    with pytest.raises(TypeError):
        labels[code] = "changed"  # type: ignore[index]
    assert muscle_label(code) == labels[code]
    assert muscle_label("not_a_muscle") == "not_a_muscle"
