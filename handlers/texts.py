"""Fixed chat texts shared by several flows."""

HOW_TO_REPORT = (
    "发现积水、占道、井盖缺失等问题，请发送：\n"
    "1. 现场照片；\n"
    "2. 位置：点击输入框旁的＋号→位置；\n"
    "3. 一句话描述（可选）。"
)
RIDER_HELP = (
    "您好，这里是城市随手拍。"
    + HOW_TO_REPORT
    + "\n其他指令：「我的上报」查看进度；「满意」或「不满意 原因」回复处理结果；"
    "「取消」放弃正在填写的上报，或撤回刚补充的内容。"
)

ASK_LOCATION = "请发送位置：点击输入框旁的＋号→位置。"
ASK_DETAILS = "已收到位置。请再发一张现场照片或一句话描述问题。"
WELCOME = "感谢关注城市随手拍！骑手师傅路上" + HOW_TO_REPORT + "\n回复「帮助」查看全部指令。"
GREETING = "您好！" + HOW_TO_REPORT + "\n回复「帮助」查看全部指令。"
BUSY = "系统繁忙，请稍后再试。"
