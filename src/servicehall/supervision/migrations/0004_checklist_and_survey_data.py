"""The 明察暗访 checklist and the 社会公众满意度调查表 questions, as data (seeds 000, 002, 003)."""

from django.db import migrations

CHECKLIST = [
    ("badge", "挂牌上岗", "按要求佩戴工作牌、挂牌上岗", "种子000 文明服务规范 二1；种子003 五统一", 2, "other"),
    ("dress", "着装", "正装上岗，衣冠整洁，不穿奇装异服和短裤、背心、拖鞋", "种子000 文明服务规范 二2；种子004 仪表端庄", 2, "other"),
    ("posture", "坐姿站姿", "站、坐姿势端正，举止庄重", "种子000 文明服务规范 二3；种子001", 1, "other"),
    ("language", "文明用语", "使用文明用语，不使用禁忌用语和生、冷、硬语言", "种子000 文明服务规范 一9；种子002 附录B", 3, "forbidden_language"),
    ("discipline", "工作纪律（八不）", "不吸烟、不吃零食、不说笑打闹、不聚众聊天、不玩电脑游戏、不看不良书刊网页、不打瞌睡、不做其他违反规定之事", "种子000 文明服务规范 四1", 3, "other"),
    ("hygiene", "卫生三包", "窗口包办公区域的地面、桌面、吧台卫生", "种子000 环境卫生管理制度 2、3", 2, "other"),
    ("desk", "桌面整洁", "桌面干净无杂物，不摆放私人物品、食物及小家电，资料摆放规范", "种子002 §6.4.4；种子003 桌面不得摆放非办公用品", 1, "other"),
    ("one_time_notice", "一次性告知", "一次性告知办事政策依据、程序、所需材料和办结时限", "种子000 首问责任制；种子002 §6.3.4", 3, "first_responder_failure"),
    ("safety", "安全", "安全用电用水防火，印章文件妥善保管，下班切断电源", "种子000 安全管理制度 2、3", 2, "other"),
]

QUESTIONS = [
    ("attitude", "您对工作人员的服务态度是否满意？", "five_level"),
    ("appearance", "您对工作人员的仪容仪表、挂牌上岗情况是否满意？", "five_level"),
    ("efficiency", "您对办事效率和办理时限是否满意？", "five_level"),
    ("notice", "您对工作人员一次性告知办事要求的情况是否满意？", "five_level"),
    ("environment", "您对服务环境（卫生、秩序、设施）是否满意？", "five_level"),
    ("integrity", "办事过程中是否遇到吃拿卡要、推诿刁难等情况？", "yes_no"),
    ("overall", "您对本服务场所的总体评价", "five_level"),
    ("suggestion", "您的意见和建议", "text"),
]


def load(apps, schema_editor):
    ChecklistItem = apps.get_model("supervision", "ChecklistItem")
    SurveyQuestion = apps.get_model("supervision", "SurveyQuestion")
    for position, (code, title, requirement, reference, deduction, kind) in enumerate(CHECKLIST, start=1):
        ChecklistItem.objects.get_or_create(
            code=code,
            defaults={
                "title": title,
                "requirement": requirement,
                "seed_reference": reference,
                "deduction": deduction,
                "violation_kind": kind,
                "position": position,
            },
        )
    for position, (code, text, kind) in enumerate(QUESTIONS, start=1):
        SurveyQuestion.objects.get_or_create(code=code, defaults={"text": text, "kind": kind, "position": position})


class Migration(migrations.Migration):
    dependencies = [("supervision", "0003_checklistitem_surveyquestion_alter_violation_source_and_more")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
