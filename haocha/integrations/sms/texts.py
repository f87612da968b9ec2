"""The words of our texts (zh-hans). Invitation and reminder templates can be replaced per region (SmsPolicy).

The provider adds the signature (【长沙政务服务】, HAOCHA_SMS_SIGN_NAME) in front of every text.
"""

INVITATION = (
    "您办理的「{item}」已办结，请评价：回复5非常满意 4满意 3基本满意 2不满意 1非常不满意"
    "（可在数字后附意见），或点击 {link} 。回复TD退订。"
)
REMINDER = (
    "温馨提醒：您办理的「{item}」尚未评价。回复5非常满意 4满意 3基本满意 2不满意 1非常不满意，"
    "或点击 {link} 。回复TD退订。"
)
ASK_REASON = "您的评价为“{level}”。为便于核实整改，请直接回复不满意的原因（例如：等待时间长、态度不好）。"
BAD_RECEIVED = "已收到您的评价，相关部门将核实处理并尽快与您联系。感谢您的监督！"
HELP = "未能识别您的回复。请回复数字评价：5非常满意 4满意 3基本满意 2不满意 1非常不满意，可在数字后附意见；回复TD退订。"
NO_INVITATION = "您目前没有待评价的办件。如需评价或反映问题，请登录政务服务网或拨打12345。"
REFUSED = "评价未成功：{message}"
OPTED_OUT = "退订成功，您将不再收到办件评价短信。"
