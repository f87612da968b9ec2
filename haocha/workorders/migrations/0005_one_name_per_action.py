"""One name per action in the transition log, and the stated and recorded times of earlier steps.

Renames (old log name → the action's one name): extension_request → request_extension, extension_decide →
decide_extension, appeal_review → review_appeal, complexity → set_complexity, reassign → assign (with
data.reassign), supervise by the sweep (data.kind = auto) → escalate, reopen after a 回访 (data carries the
answer) → callback. A contact's stated time was kept in data.at: it becomes stated_at, and the contact record
gets the time its step was recorded.
"""

from datetime import datetime

from django.db import migrations

RENAMED = {
    "extension_request": "request_extension",
    "extension_decide": "decide_extension",
    "appeal_review": "review_appeal",
    "complexity": "set_complexity",
}


def forward(apps, schema_editor):
    Transition = apps.get_model("workorders", "Transition")
    ContactRecord = apps.get_model("workorders", "ContactRecord")
    Extension = apps.get_model("workorders", "Extension")
    for old, new in RENAMED.items():
        Transition.objects.filter(action=old).update(action=new)
    for step in Transition.objects.filter(action="reassign").iterator():
        step.action = "assign"
        step.data = {**(step.data or {}), "reassign": True}
        step.save(update_fields=["action", "data"])
    for step in Transition.objects.filter(action="supervise").iterator():
        if (step.data or {}).get("kind") == "auto":
            step.action = "escalate"
            step.save(update_fields=["action"])
    for step in Transition.objects.filter(action="reopen").iterator():
        if "satisfaction" in (step.data or {}):
            step.action = "callback"
            step.save(update_fields=["action"])
    recorded = {}
    for step in Transition.objects.filter(action="contact").iterator():
        stated = (step.data or {}).get("at")
        if stated:
            step.stated_at = datetime.fromisoformat(stated)
            step.save(update_fields=["stated_at"])
            recorded[(step.order_id, step.stated_at)] = step.at
    for record in ContactRecord.objects.filter(recorded_at__isnull=True).iterator():
        record.recorded_at = recorded.get((record.order_id, record.contacted_at), record.contacted_at)
        record.save(update_fields=["recorded_at"])
    for ext in Extension.objects.filter(status="pending").select_related("order").iterator():
        ext.cycle = ext.order.cycle
        ext.save(update_fields=["cycle"])


def backward(apps, schema_editor):
    Transition = apps.get_model("workorders", "Transition")
    for old, new in RENAMED.items():
        Transition.objects.filter(action=new).update(action=old)
    for step in Transition.objects.filter(action="assign").iterator():
        if (step.data or {}).get("reassign"):
            step.action = "reassign"
            step.save(update_fields=["action"])
    Transition.objects.filter(action="escalate").update(action="supervise")
    for step in Transition.objects.filter(action="callback").iterator():
        if step.to_status != "closed":
            step.action = "reopen"
            step.save(update_fields=["action"])


class Migration(migrations.Migration):
    dependencies = [("workorders", "0004_stated_times_text_limits_cycles")]

    operations = [migrations.RunPython(forward, backward)]
