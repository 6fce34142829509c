"""Patient education pages, one per indication (issue 10 item 10): what BOTOX does for the
condition, what a session is like, when results show, how often it is repeated, which side
effects to report and when to call. Plain words; the few numbers come from the rules
(``treatments.facts.education_figures``), never typed here."""

from __future__ import annotations

from typing import Any

from bontrack.treatments.facts.protocols import education_figures

# Boxed warning (clinical facts §1.10, S27b): distant spread of toxin effect.
URGENT = (
    "Call 911 (or your local emergency number) straight away if you have trouble swallowing, "
    "speaking or breathing after a treatment. These problems can start hours to weeks after "
    "the injections and can be dangerous."
)
REPORT = [
    "weakness all over the body or muscle weakness away from the injected area",
    "double or blurred vision, or drooping eyelids",
    "a hoarse or changed voice, or slurred speech",
    "loss of bladder control",
    "pain, redness or swelling where you were injected that gets worse",
]
BEFORE = (
    "Before each session, tell the clinic about any other botulinum toxin you have had recently "
    "(such as Dysport, Xeomin or Myobloc), any infection where you will be injected, and any "
    "muscle or nerve disease. Units of different toxin products are not the same and are never "
    "swapped one for another."
)

# slug -> topic; "indications" are the protocol codes whose patients see the page.
TOPICS: dict[str, dict[str, Any]] = {
    "chronic-migraine": {
        "title": "BOTOX for chronic migraine",
        "indications": ["chronic_migraine"],
        "what": (
            "BOTOX is used to prevent headaches in adults with chronic migraine (headache on 15 "
            "or more days a month). It is injected into muscles of the head and neck and calms "
            "the nerve signals involved in migraine. It does not treat a migraine attack that "
            "has already started: keep your usual acute medicine."
        ),
        "session": (
            "{cm_units} units are given as {cm_sites} small injections into seven areas of the "
            "forehead, temples, back of the head, neck and shoulders, with a very fine needle. "
            "Some patients get a few extra sites where the pain is worst."
        ),
        "results": (
            "The effect builds up gradually over the weeks after a session. Keep your headache "
            "diary: the clinic compares your headache days before and after treatment, and "
            "judges the benefit after two treatment cycles."
        ),
        "repeat": "Sessions are repeated every {cm_weeks} weeks.",
        "extra": ["neck pain or stiffness", "a drooping eyelid or brow"],
    },
    "cervical-dystonia": {
        "title": "BOTOX for cervical dystonia (torticollis)",
        "indications": ["cervical_dystonia"],
        "what": (
            "In cervical dystonia, neck muscles contract on their own and pull the head into a "
            "twisted or tilted position, often with pain. BOTOX relaxes the overactive muscles "
            "so that the head sits more naturally and the pain eases."
        ),
        "session": (
            "Your physician examines the position of your head and neck and injects the muscles "
            "that cause it, sometimes using a small device (EMG or ultrasound) to find them. "
            "The doses and muscles are chosen for you and adjusted at each visit."
        ),
        "results": (
            "The effect builds up over the weeks after a session and then wears off slowly. The "
            "clinic scores your posture, disability and pain at each visit to adjust the dose."
        ),
        "repeat": (
            "Treatment is repeated when the effect wears off; your physician sets the interval. "
            "Insurers usually cover it no more often than every {class_weeks} weeks."
        ),
        "extra": [
            "trouble swallowing (it can last for weeks or months after neck injections: call the "
            "clinic, and 911 if you cannot swallow or breathe)",
            "neck weakness",
        ],
    },
    "blepharospasm": {
        "title": "BOTOX for blepharospasm",
        "indications": ["blepharospasm"],
        "what": (
            "In blepharospasm, the muscles around the eyes squeeze shut on their own. BOTOX "
            "relaxes these muscles so that the eyes stay open more easily."
        ),
        "session": (
            "Tiny injections are given into the eyelid muscle, usually {bleph_sites_per_eye} "
            "sites around each eye, with a very fine needle. The session is short."
        ),
        "results": (
            "The effect usually starts within days and lasts for some months. If it wears off "
            "too early, tell the clinic: the dose can be adjusted at the next session."
        ),
        "repeat": (
            "Treatment is repeated when the effect wears off, usually about every "
            "{bleph_days} days. Treating more often may make it work less well over time."
        ),
        "extra": ["a drooping eyelid", "double vision", "dry or watery eyes"],
    },
    "spasticity-adults": {
        "title": "BOTOX for spasticity in adults",
        "indications": ["upper_limb_spasticity", "lower_limb_spasticity"],
        "what": (
            "After a stroke, a brain injury or with multiple sclerosis, muscles of an arm or a "
            "leg can become stiff and tight (spasticity). BOTOX relaxes the stiff muscles, "
            "which can make movement, care, dressing and walking easier, alongside your "
            "physiotherapy."
        ),
        "session": (
            "The physician injects the stiff muscles of the arm or leg, often finding them with "
            "EMG, nerve stimulation or ultrasound. The dose is divided among the muscles chosen "
            "with you and your goals."
        ),
        "results": (
            "The effect builds up over the weeks after a session. The clinic measures muscle "
            "stiffness and how close you are to your goals at the follow-up visit."
        ),
        "repeat": (
            "Treatment is repeated when the effect wears off, generally no sooner than every "
            "{spas_adult_weeks} weeks."
        ),
        "extra": ["weakness of the injected arm or leg", "falls or feeling unsteady"],
    },
    "spasticity-children": {
        "title": "BOTOX for spasticity in children",
        "indications": ["upper_limb_spasticity", "lower_limb_spasticity"],
        "pediatric": True,
        "what": (
            "In children with cerebral palsy or other causes of spasticity, tight muscles of an "
            "arm or a leg can limit movement, growth and comfort. BOTOX relaxes the tight "
            "muscles, alongside physiotherapy, splints or casting."
        ),
        "session": (
            "Your child's dose is calculated from their weight, so the clinic weighs your child "
            "before treatment if the last weight is not recent. The muscles are found with EMG, "
            "nerve stimulation or ultrasound; the team helps your child stay comfortable."
        ),
        "results": (
            "The effect builds up over the weeks after a session. The team checks stiffness and "
            "your child's goals at the follow-up visit."
        ),
        "repeat": (
            "Treatment is repeated when the effect wears off, generally no sooner than every "
            "{spas_child_weeks} weeks."
        ),
        "extra": [
            "any new weakness, trouble swallowing, a changed voice or trouble breathing: the "
            "risk of the toxin spreading is probably greatest in children treated for "
            "spasticity, so call straight away"
        ],
    },
    "facial-pain": {
        "title": "BOTOX for facial pain (off-label)",
        "indications": ["facial_pain"],
        "off_label": True,
        "what": (
            "The BOTOX label does not cover facial pain: this is an off-label treatment, which "
            "is legal and used when other treatments have not helped. Your physician follows a "
            "protocol the clinic has defined, injecting muscles of the head, face or neck where "
            "the pain is."
        ),
        "session": (
            "Small injections are given into the muscles of your clinic's protocol with a fine "
            "needle. You will be asked to agree to the treatment knowing that it is off-label."
        ),
        "results": (
            "The effect builds up over the weeks after a session. Before each session and at "
            "the follow-up you rate your pain from 0 (no pain) to 10 (worst pain imaginable), "
            "and the clinic checks how close you are to the goals you set."
        ),
        "repeat": (
            "Treatment is repeated when the effect wears off, no more often than every "
            "{class_weeks} weeks."
        ),
        "extra": ["a drooping eyelid or brow", "weakness of the face when smiling or chewing"],
    },
}

# Which topics a patient sees: by indication, and by age for spasticity.
ORDER = list(TOPICS)


def figures() -> dict[str, Any]:
    f = education_figures()
    i = f["interval"]
    return {
        "cm_units": f["cm_units"],
        "cm_sites": f["cm_sites"],
        "bleph_sites_per_eye": f["bleph_sites_per_eye"],
        "cm_weeks": i["chronic_migraine"]["weeks"],
        "bleph_days": i["blepharospasm"]["days"],
        "spas_adult_weeks": i["spasticity_adult"]["weeks"],
        "spas_child_weeks": i["spasticity_child"]["weeks"],
        "class_weeks": i["class_wide"]["weeks"],
    }


def topic(slug: str) -> dict[str, Any] | None:
    raw = TOPICS.get(slug)
    if raw is None:
        return None
    values = figures()
    out = dict(raw)
    out["slug"] = slug
    for key in ("what", "session", "results", "repeat"):
        out[key] = raw[key].format(**values)
    out["report"] = [*raw.get("extra", []), *REPORT]
    out["urgent"] = URGENT
    out["before"] = BEFORE
    return out


def topics_for(indications: list[str], *, pediatric: bool) -> list[dict[str, str]]:
    """The education pages of a patient's indications (slug and title), spasticity by age."""
    out = []
    for slug, t in TOPICS.items():
        if not set(t["indications"]) & set(indications):
            continue
        by_age = "pediatric" in t or slug == "spasticity-adults"
        if by_age and bool(t.get("pediatric")) != pediatric:
            continue
        out.append({"slug": slug, "title": t["title"]})
    return out


def all_topics() -> list[dict[str, str]]:
    return [{"slug": s, "title": t["title"]} for s, t in TOPICS.items()]


def topics_for_indication(indication: str) -> list[dict[str, str]]:
    """Pages a public program page links to (spasticity: both the adult and the child page)."""
    return [
        {"slug": s, "title": t["title"]}
        for s, t in TOPICS.items()
        if indication in t["indications"]
    ]
