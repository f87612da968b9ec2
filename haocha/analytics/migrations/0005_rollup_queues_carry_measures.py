"""The rollup queues carry what a change counts for (one 0/1 per measure, the day, channel and units), and
finished cases how many of them are rated (评价率 by the day a case finished).

The triggers of 0002 write the old queue shape: they are dropped first, and the new ones (generated from
analytics/measures.py by analytics/triggers.py) are installed after migrating (analytics/apps.py). Queued
changes of the old shape are dropped with them: the new n_rated needs `haocha rollups rebuild` anyway, and
`haocha rollups status` and the worker say so until it has run (RollupState.definitions).
"""

import datetime

from django.db import migrations, models

SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS analytics_rating_ins",
    "DROP TRIGGER IF EXISTS analytics_rating_valid",
    "DROP TRIGGER IF EXISTS analytics_case_ins",
    "DROP TRIGGER IF EXISTS analytics_case_upd",
]
POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS analytics_rating_pending ON evaluations_rating",
    "DROP TRIGGER IF EXISTS analytics_case_pending ON catalogue_case",
]


def drop_triggers(apps, schema_editor):
    for sql in {"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP}.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql)


def empty_queues(apps, schema_editor):
    apps.get_model("analytics", "RatingPending").objects.all().delete()
    apps.get_model("analytics", "CasePending").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0004_rollup_state_row"),
    ]

    operations = [
        migrations.RunPython(drop_triggers, migrations.RunPython.noop),
        migrations.RunPython(empty_queues, migrations.RunPython.noop),
        migrations.AddField(
            model_name="casepending",
            name="n_finished",
            field=models.IntegerField(default=0, verbose_name="办结数"),
        ),
        migrations.AddField(
            model_name="casepending",
            name="n_rated",
            field=models.IntegerField(default=0, verbose_name="已评价办结数"),
        ),
        migrations.AddField(
            model_name="caserollup",
            name="n_rated",
            field=models.IntegerField(default=0, verbose_name="已评价办结数"),
        ),
        migrations.AddField(
            model_name="ratingpending",
            name="channel",
            field=models.CharField(default="", max_length=16),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="ratingpending",
            name="department_id",
            field=models.BigIntegerField(null=True),
        ),
        migrations.AddField(
            model_name="ratingpending",
            name="hall_id",
            field=models.BigIntegerField(null=True),
        ),
        migrations.AddField(
            model_name="ratingpending",
            name="item_id",
            field=models.BigIntegerField(null=True),
        ),
        migrations.AddField(
            model_name="ratingpending",
            name="n",
            field=models.IntegerField(default=0, verbose_name="评价数"),
        ),
        migrations.AddField(
            model_name="ratingpending",
            name="n_b",
            field=models.IntegerField(default=0, verbose_name="基本满意"),
        ),
        migrations.AddField(
            model_name="ratingpending",
            name="n_case",
            field=models.IntegerField(default=0, verbose_name="办件评价数"),
        ),
        migrations.AddField(
            model_name="ratingpending",
            name="n_comment",
            field=models.IntegerField(default=0, verbose_name="有文字评价"),
        ),
        migrations.AddField(
            model_name="ratingpending",
            name="n_d",
            field=models.IntegerField(default=0, verbose_name="不满意"),
        ),
        migrations.AddField(
            model_name="ratingpending",
            name="n_default",
            field=models.IntegerField(default=0, verbose_name="默认评价"),
        ),
        migrations.AddField(
            model_name="ratingpending",
            name="n_follow",
            field=models.IntegerField(default=0, verbose_name="追评数"),
        ),
        migrations.AddField(
            model_name="ratingpending",
            name="n_follow_bad",
            field=models.IntegerField(default=0, verbose_name="追评差评数"),
        ),
        migrations.AddField(
            model_name="ratingpending",
            name="n_s",
            field=models.IntegerField(default=0, verbose_name="满意"),
        ),
        migrations.AddField(
            model_name="ratingpending",
            name="n_vd",
            field=models.IntegerField(default=0, verbose_name="非常不满意"),
        ),
        migrations.AddField(
            model_name="ratingpending",
            name="n_vs",
            field=models.IntegerField(default=0, verbose_name="非常满意"),
        ),
        migrations.AddField(
            model_name="ratingpending",
            name="rated_at",
            field=models.DateTimeField(default=datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="ratingpending",
            name="region_id",
            field=models.BigIntegerField(null=True),
        ),
        migrations.AddField(
            model_name="ratingpending",
            name="staff_id",
            field=models.BigIntegerField(null=True),
        ),
        migrations.AddField(
            model_name="ratingpending",
            name="window_id",
            field=models.BigIntegerField(null=True),
        ),
        migrations.AddField(
            model_name="rollupstate",
            name="definitions",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AlterField(
            model_name="rollupdelta",
            name="n",
            field=models.IntegerField(default=0, verbose_name="评价数"),
        ),
        migrations.AlterField(
            model_name="rollupdelta",
            name="n_b",
            field=models.IntegerField(default=0, verbose_name="基本满意"),
        ),
        migrations.AlterField(
            model_name="rollupdelta",
            name="n_case",
            field=models.IntegerField(default=0, verbose_name="办件评价数"),
        ),
        migrations.AlterField(
            model_name="rollupdelta",
            name="n_comment",
            field=models.IntegerField(default=0, verbose_name="有文字评价"),
        ),
        migrations.AlterField(
            model_name="rollupdelta",
            name="n_d",
            field=models.IntegerField(default=0, verbose_name="不满意"),
        ),
        migrations.AlterField(
            model_name="rollupdelta",
            name="n_default",
            field=models.IntegerField(default=0, verbose_name="默认评价"),
        ),
        migrations.AlterField(
            model_name="rollupdelta",
            name="n_follow",
            field=models.IntegerField(default=0, verbose_name="追评数"),
        ),
        migrations.AlterField(
            model_name="rollupdelta",
            name="n_follow_bad",
            field=models.IntegerField(default=0, verbose_name="追评差评数"),
        ),
        migrations.AlterField(
            model_name="rollupdelta",
            name="n_s",
            field=models.IntegerField(default=0, verbose_name="满意"),
        ),
        migrations.AlterField(
            model_name="rollupdelta",
            name="n_vd",
            field=models.IntegerField(default=0, verbose_name="非常不满意"),
        ),
        migrations.AlterField(
            model_name="rollupdelta",
            name="n_vs",
            field=models.IntegerField(default=0, verbose_name="非常满意"),
        ),
    ]
