"""Tasks recorded with the write that needs them (inbox.task_outbox)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class PendingTask(models.Model):
    """A task recorded in the transaction of the write that needs it, until the broker
    has taken it: a failed hand-over is sent again by beat (inbox.task_outbox)."""

    task = models.CharField(max_length=200, verbose_name=_("task"))
    args = models.JSONField(default=list, verbose_name=_("arguments"))
    # A task due later (a retry's countdown) is not sent before then.
    not_before = models.DateTimeField(null=True, blank=True, verbose_name=_("not before"))
    created_at = models.DateTimeField(
        auto_now_add=True, db_index=True, verbose_name=_("created at")
    )

    class Meta:
        verbose_name = _("pending task")
        verbose_name_plural = _("pending tasks")

    def __str__(self) -> str:
        return f"{self.task}{self.args}"
