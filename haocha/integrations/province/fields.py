"""National records (docking/national.py) in the provincial platform's field names and normalisation rules.

The rules seen in deployed provincial systems (docs/interface.md): an optional provincial prefix on projectNo,
a 33-character item code split into taskCode (its first 31) and taskHandleItem (the whole), taskType mapped to
the province's table (01 05 07 08 09 10 20, 11 read as 20, anything else 99), one service node per 办件
(serviceNumber 1). Identities go only as the national record carries them: the applicant's name masked, no
certificate number and no phone.
"""

PROVINCE_TASK_TYPES = frozenset({"01", "05", "07", "08", "09", "10", "20"})


def task_type(code: str) -> str:
    code = (code or "").strip()
    if code == "11":  # 公共服务 under an older table
        return "20"
    return code if code in PROVINCE_TASK_TYPES else "99"


def split_item_code(code: str) -> tuple[str, str]:
    """(taskCode, taskHandleItem): a 33-character 办理项 code is its 31-character item code plus two digits."""
    code = (code or "").strip()
    return (code[:31], code) if len(code) == 33 else (code, code)


def _text(data: dict, name: str) -> str:
    value = data.get(name)
    return "" if value is None else str(value).strip()


def service(data: dict, prefix: str = "") -> dict:
    task_code, handle_item = split_item_code(_text(data, "taskCode"))
    return {
        "projectNo": prefix + _text(data, "projectNo"),
        "projectName": _text(data, "projectName"),
        "areaCode": _text(data, "areaCode"),
        "deptCode": _text(data, "deptCode"),
        "deptName": _text(data, "deptName"),
        "taskType": task_type(_text(data, "taskType")),
        "taskCode": task_code,
        "taskHandleItem": handle_item,
        "taskName": _text(data, "taskName"),
        "proStatus": _text(data, "proStatus"),
        "proDepart": _text(data, "proDepart"),
        "proDepartCode": _text(data, "proDepartCode"),
        "userName": _text(data, "userName"),
        "userProp": _text(data, "userProp"),
        "acceptDate": _text(data, "acceptDate"),
        "resultDate": _text(data, "resultDate"),
        "anticipateDay": _text(data, "anticipateDate"),
        "promiseDay": int(data.get("promiseDay") or 0),
        "promiseType": _text(data, "promiseType") or "1",
        "promiseTime": _text(data, "promiseTime"),
        "proChannel": _text(data, "proChannel"),
        "orgcode": _text(data, "orgCode"),
        "orgName": _text(data, "orgName"),
        "serviceName": _text(data, "taskName"),
        "serviceNumber": 1,
        "serviceTime": _text(data, "resultDate") or _text(data, "acceptDate"),
    }


def rating(data: dict, prefix: str = "") -> dict:
    return {
        "projectNo": prefix + _text(data, "projectNo"),
        "areaCode": _text(data, "areaCode"),
        "pf": _text(data, "pf"),
        "satisfaction": int(data.get("satisfaction") or 0),
        "evalDetail": _text(data, "evalDetail"),
        "writingEvaluation": _text(data, "writingEvaluation"),
        "assessTime": _text(data, "assessTime"),
        "assessNumber": int(data.get("assessNumber") or 1),
        "evaluatedPersonInfo": _text(data, "evaluatedPersonInfo"),
        "isDefault": int(data.get("isDefault") or 0),
        "version": int(data.get("version") or 1),
    }


def validity(data: dict, prefix: str = "") -> dict:
    """An upheld appeal (invalid) or its reversal (restore): the province's effectivEvalua 0 / 1."""
    return {
        "projectNo": prefix + _text(data, "projectNo"),
        "assessNumber": int(data.get("assessNumber") or 1),
        "effectivEvalua": "0" if _text(data, "kind") == "invalid" else "1",
        "reason": _text(data, "reason"),
        "changeTime": _text(data, "changedAt"),
    }


BY_KIND = {"service": service, "rating": rating, "validity": validity}
