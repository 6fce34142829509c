from django.db import models


class VialStatus(models.TextChoices):
    IN_STOCK = "in_stock", "In stock"
    RECONSTITUTED = "reconstituted", "Reconstituted"
    USED = "used", "Used"
    DISCARDED = "discarded", "Discarded"
