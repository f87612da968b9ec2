"""Regions (GB/T 2260), organisations (departments, centres, halls), windows and staff."""

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models

from haocha.organisations.codes import is_valid_credit_code


class Region(models.Model):
    class Level(models.IntegerChoices):
        PROVINCE = 1, "省"
        CITY = 2, "市"
        COUNTY = 3, "区县"
        STREET = 4, "街道乡镇"

    code = models.CharField(
        "行政区划代码",
        max_length=12,
        unique=True,
        validators=[RegexValidator(r"^\d{6}(\d{3})?(\d{3})?$", "区划代码应为6、9或12位数字")],
    )
    name = models.CharField("名称", max_length=64)
    level = models.PositiveSmallIntegerField("层级", choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name="上级区划",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    # Materialised path of codes, e.g. "/430000/430100/430102/", for subtree queries.
    path = models.CharField("路径", max_length=255, db_index=True, editable=False)

    class Meta:
        verbose_name = "行政区划"
        verbose_name_plural = "行政区划"
        ordering = ["code"]

    def __str__(self):
        return f"{self.name}（{self.code}）"

    def clean(self):
        if self.parent_id and self.parent.level >= self.level:
            raise ValidationError({"level": "下级区划的层级必须低于上级区划"})


class Organisation(models.Model):
    class Kind(models.TextChoices):
        DEPARTMENT = "department", "部门"
        SERVICE_CENTRE = "service_centre", "政务服务中心"
        HALL = "hall", "政务服务大厅"
        BRANCH_HALL = "branch_hall", "分厅"

    HALL_KINDS = (Kind.SERVICE_CENTRE, Kind.HALL, Kind.BRANCH_HALL)

    name = models.CharField("名称", max_length=128)
    short_name = models.CharField("简称", max_length=64, blank=True)
    kind = models.CharField("类型", max_length=20, choices=Kind.choices)
    credit_code = models.CharField("统一社会信用代码", max_length=18, blank=True, db_index=True)
    region = models.ForeignKey(
        Region, verbose_name="所属区划", on_delete=models.PROTECT, related_name="organisations"
    )
    parent = models.ForeignKey(
        "self",
        verbose_name="上级机构",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    address = models.CharField("地址", max_length=255, blank=True)
    phone = models.CharField("咨询电话", max_length=32, blank=True)
    is_active = models.BooleanField("启用", default=True)
    # Materialised path of ids, e.g. "/3/17/", maintained by organisation_save().
    path = models.CharField("路径", max_length=255, db_index=True, editable=False, default="")

    class Meta:
        verbose_name = "组织机构"
        verbose_name_plural = "组织机构"
        ordering = ["region__code", "kind", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["credit_code"], condition=~models.Q(credit_code=""), name="org_credit_code_unique"
            )
        ]

    def __str__(self):
        return self.name

    @property
    def is_hall(self) -> bool:
        return self.kind in self.HALL_KINDS

    def clean(self):
        if self.credit_code and not is_valid_credit_code(self.credit_code):
            raise ValidationError({"credit_code": "统一社会信用代码格式或校验位不正确"})
        if self.kind == self.Kind.DEPARTMENT and not self.credit_code:
            raise ValidationError({"credit_code": "部门必须填写统一社会信用代码"})


class Window(models.Model):
    hall = models.ForeignKey(
        Organisation,
        verbose_name="所属大厅",
        on_delete=models.PROTECT,
        related_name="windows",
        limit_choices_to={"kind__in": Organisation.HALL_KINDS},
    )
    code = models.CharField("窗口编码", max_length=40, unique=True)
    number = models.CharField("窗口号", max_length=16)
    name = models.CharField("窗口名称", max_length=64)
    department = models.ForeignKey(
        Organisation,
        verbose_name="进驻部门",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="staffed_windows",
        limit_choices_to={"kind": Organisation.Kind.DEPARTMENT},
    )
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "窗口"
        verbose_name_plural = "窗口"
        ordering = ["hall_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["hall", "number"], name="window_number_unique_in_hall")
        ]

    def __str__(self):
        return f"{self.hall.name} {self.number}号窗口（{self.name}）"

    def clean(self):
        if self.hall_id and not self.hall.is_hall:
            raise ValidationError({"hall": "窗口必须属于政务服务中心、大厅或分厅"})


class Staff(models.Model):
    staff_no = models.CharField("工号", max_length=32, unique=True)
    name = models.CharField("姓名", max_length=32)
    department = models.ForeignKey(
        Organisation, verbose_name="所属部门", on_delete=models.PROTECT, related_name="staff"
    )
    windows = models.ManyToManyField(Window, verbose_name="服务窗口", blank=True, related_name="staff")
    title = models.CharField("岗位", max_length=64, blank=True)
    photo = models.ImageField("照片", upload_to="staff/", blank=True)
    user = models.OneToOneField(
        "accounts.User",
        verbose_name="系统账号",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="staff_profile",
    )
    is_active = models.BooleanField("在岗", default=True)

    class Meta:
        verbose_name = "工作人员"
        verbose_name_plural = "工作人员"
        ordering = ["staff_no"]

    def __str__(self):
        return f"{self.name}（{self.staff_no}）"
