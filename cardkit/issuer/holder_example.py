"""Synthetic holders for demos, load tests and ``cardkit issue-batch --example N``.

Every profile is valid and the same seed always gives the same holders. The people are made up: names
from small tables of common Chinese surnames and given-name characters with their pinyin, birth dates
1940-2008, citizen ID numbers built the GB 11643 way from real GB/T 2260 district codes (so a holder's
social insurance region is their district). Nothing the issuer allocates is set — no PAN, PIN,
serial or document number — and no photo (the issuer's placeholder face is used).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, timedelta

from cardkit.issuer.eid_data import citizen_id_check_digit
from cardkit.issuer.holder import BankSection, HolderProfile, IdSection, SocialSection, TransitSection

__all__ = ["REGIONS", "example_holders"]

# GB/T 2260 county-level codes (National Bureau of Statistics division codes) and a street in each.
REGIONS: tuple[tuple[str, str, str], ...] = (
    ("110101", "北京市东城区", "景山前街"),
    ("110105", "北京市朝阳区", "建国路"),
    ("110108", "北京市海淀区", "中关村大街"),
    ("120101", "天津市和平区", "南京路"),
    ("210102", "辽宁省沈阳市和平区", "太原街"),
    ("310101", "上海市黄浦区", "南京东路"),
    ("310104", "上海市徐汇区", "衡山路"),
    ("310115", "上海市浦东新区", "世纪大道"),
    ("320102", "江苏省南京市玄武区", "中山路"),
    ("330106", "浙江省杭州市西湖区", "文三路"),
    ("370102", "山东省济南市历下区", "泉城路"),
    ("420106", "湖北省武汉市武昌区", "中南路"),
    ("430102", "湖南省长沙市芙蓉区", "五一大道"),
    ("440103", "广东省广州市荔湾区", "上下九路"),
    ("440106", "广东省广州市天河区", "天河路"),
    ("440304", "广东省深圳市福田区", "深南大道"),
    ("440305", "广东省深圳市南山区", "科技园路"),
    ("500103", "重庆市渝中区", "解放碑路"),
    ("510104", "四川省成都市锦江区", "春熙路"),
    ("610113", "陕西省西安市雁塔区", "长安南路"),
)
_SURNAMES = (("王", "WANG"), ("李", "LI"), ("张", "ZHANG"), ("刘", "LIU"), ("陈", "CHEN"), ("杨", "YANG"),
             ("黄", "HUANG"), ("赵", "ZHAO"), ("吴", "WU"), ("周", "ZHOU"), ("徐", "XU"), ("孙", "SUN"),
             ("马", "MA"), ("朱", "ZHU"), ("胡", "HU"), ("郭", "GUO"), ("何", "HE"), ("林", "LIN"),
             ("高", "GAO"), ("罗", "LUO"), ("欧阳", "OUYANG"), ("司马", "SIMA"))
# Given-name characters; none starts with a vowel, so joined pinyin (JIANGUO) reads one way only.
_MALE = (("伟", "WEI"), ("强", "QIANG"), ("磊", "LEI"), ("军", "JUN"), ("勇", "YONG"), ("杰", "JIE"),
         ("涛", "TAO"), ("明", "MING"), ("超", "CHAO"), ("建", "JIAN"), ("国", "GUO"), ("浩", "HAO"),
         ("宇", "YU"), ("鹏", "PENG"))
_FEMALE = (("芳", "FANG"), ("娜", "NA"), ("敏", "MIN"), ("静", "JING"), ("丽", "LI"), ("艳", "YAN"),
           ("娟", "JUAN"), ("秀", "XIU"), ("英", "YING"), ("玲", "LING"), ("欣", "XIN"), ("怡", "YI"),
           ("婷", "TING"), ("雪", "XUE"))
_EITHER = (("华", "HUA"), ("文", "WEN"), ("平", "PING"), ("晨", "CHEN"), ("春", "CHUN"), ("林", "LIN"))
_ETHNICITIES = ("02", "03", "04", "05", "06", "07", "08")  # GB 3304: Mongol, Hui, Tibetan, Uyghur, Miao, Yi, Zhuang
_FIRST_BIRTH = date(1940, 1, 1)
_BIRTH_DAYS = (date(2008, 12, 31) - _FIRST_BIRTH).days
_TOP_UPS = (0, 0, 2_000, 5_000, 10_000)  # fen


def _given(rng: random.Random, male: bool) -> tuple[str, str]:
    pool = (_MALE if male else _FEMALE) + _EITHER
    chars = rng.sample(pool, rng.choice((1, 2, 2, 2)))
    return "".join(c for c, _ in chars), "".join(p for _, p in chars)


def example_holders(n: int, *, seed: int = 0) -> Iterator[HolderProfile]:
    """``n`` synthetic, valid and distinct holders ``H000001`` ... (lazily; deterministic for ``seed``).

    All carry bank (most debit, about one in five debit + credit) and ID; about 80 % transit (students
    born from 2000 on get card type 1, seniors born before 1960 card type 2) and 85 % social insurance.

    Raises:
        ValueError: ``n`` is negative.
    """
    if n < 0:
        raise ValueError("n must not be negative")
    rng = random.Random(seed)
    used: set[str] = set()
    for i in range(1, n + 1):
        male = rng.random() < 0.5
        surname, surname_pinyin = rng.choice(_SURNAMES)
        given, given_pinyin = _given(rng, male)
        birth = _FIRST_BIRTH + timedelta(days=rng.randrange(_BIRTH_DAYS + 1))
        region, place, street = rng.choice(REGIONS)
        while True:  # GB 11643: region, birth date, sequence (odd for men), check character
            sequence = rng.randrange(500) * 2 + (1 if male else 0)
            first17 = f"{region}{birth:%Y%m%d}{sequence:03d}"
            if first17 not in used:
                used.add(first17)
                break
        citizen_id = first17 + citizen_id_check_digit(first17)
        apps = ["bank"]
        transit = None
        if rng.random() < 0.8:
            apps.append("transit")
            card_type = 1 if birth.year >= 2000 else 2 if birth.year < 1960 else 0
            transit = TransitSection(initial_balance=rng.choice(_TOP_UPS), card_type=card_type)
        apps.append("id")
        social = None
        if rng.random() < 0.85:
            apps.append("social")
            ethnicity = "01" if rng.random() < 0.9 else rng.choice(_ETHNICITIES)
            social = SocialSection(region=region, ethnicity=ethnicity, medical_balance=rng.randrange(2_001) * 100)
        products = ("debit", "credit") if rng.random() < 0.2 else ("debit",)
        ec_balance = rng.choice((0, 0, 10_000, 50_000))
        yield HolderProfile(
            holder_id=f"H{i:06d}", surname=surname_pinyin, given_names=given_pinyin, name=surname + given,
            sex="M" if male else "F", birth_date=birth, citizen_id=citizen_id,
            address=f"{place}{street}{rng.randrange(1, 300)}号", applications=tuple(apps), id=IdSection(),
            bank=BankSection(products=products, ec_balance=ec_balance), transit=transit, social=social)
