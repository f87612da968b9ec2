from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [
        migrations.CreateModel(
            name="CalendarDay",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("date", models.DateField(unique=True, verbose_name="日期")),
                ("kind", models.CharField(choices=[("holiday", "法定节假日（休息）"), ("makeup", "调休上班日")], max_length=8, verbose_name="类型")),
                ("name", models.CharField(blank=True, max_length=32, verbose_name="节日")),
            ],
            options={"verbose_name": "节假日与调休", "verbose_name_plural": "节假日与调休", "ordering": ["date"]},
        ),
        migrations.CreateModel(
            name="CalendarYear",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("year", models.PositiveSmallIntegerField(unique=True, verbose_name="年份")),
                ("source", models.CharField(choices=[("package", "chinese-calendar 软件包"), ("admin", "管理员录入"), ("file", "文件导入")], max_length=10, verbose_name="来源")),
                ("note", models.CharField(blank=True, max_length=200, verbose_name="说明")),
                ("entered_at", models.DateTimeField(auto_now=True, verbose_name="录入时间")),
            ],
            options={"verbose_name": "日历年度", "verbose_name_plural": "日历年度", "ordering": ["-year"]},
        ),
    ]
