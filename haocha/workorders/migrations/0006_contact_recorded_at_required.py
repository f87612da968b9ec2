from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("workorders", "0005_one_name_per_action")]

    operations = [
        migrations.AlterField(
            model_name="contactrecord",
            name="recorded_at",
            field=models.DateTimeField(verbose_name="登记时间"),
        ),
    ]
