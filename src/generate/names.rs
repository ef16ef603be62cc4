//! Names and people for the demo county: the real town names from the seed
//! document, plausible village names, and leaders with mobile numbers.

use rand::Rng;
use rand::seq::IndexedRandom;
use rand_chacha::ChaCha8Rng;

/// The county seat, which gets the densest population and urban communities.
pub const COUNTY_SEAT: &str = "永清镇";

/// The 15 towns and 3 townships of Qingshui County (DOMAIN.md); the last two
/// townships come from an older list.
pub const TOWNS: [&str; 18] = [
    "永清镇",
    "红堡镇",
    "白驼镇",
    "金集镇",
    "秦亭镇",
    "山门镇",
    "白沙镇",
    "王河镇",
    "郭川镇",
    "黄门镇",
    "松树镇",
    "远门镇",
    "土门镇",
    "草川铺镇",
    "陇东镇",
    "贾川乡",
    "丰望乡",
    "新城乡",
];

const SURNAMES: [&str; 48] = [
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高", "林",
    "何", "郭", "马", "罗", "梁", "宋", "郑", "谢", "韩", "唐", "冯", "董", "程", "曹", "袁", "邓",
    "许", "沈", "彭", "吕", "苏", "蒋", "蔡", "贾", "丁", "魏", "薛", "杜", "汪", "田", "任", "姚",
];

const GIVEN: [&str; 40] = [
    "伟", "芳", "娜", "秀", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛",
    "明", "超", "霞", "平", "刚", "桂", "英", "华", "建", "国", "文", "志", "红", "玉", "兰", "海",
    "永", "春", "福", "生", "忠", "德", "荣", "宏",
];

const VILLAGE_FIRST: [&str; 36] = [
    "李", "王", "张", "赵", "马", "杨", "刘", "郭", "何", "胡", "牛", "石", "柳", "杏", "槐", "梨",
    "东", "西", "南", "北", "上", "下", "前", "后", "高", "沟", "河", "山", "川", "坪", "寨", "湾",
    "峪", "庄", "堡", "岘",
];

const VILLAGE_SECOND: [&str; 24] = [
    "家", "湾", "河", "沟", "坪", "川", "庄", "岔", "峪", "山", "塬", "坡", "寨", "堡", "集", "园",
    "台", "岭", "崖", "梁", "店", "桥", "滩", "阳",
];

const COMMUNITY_FIRST: [&str; 12] = [
    "东关", "西关", "南关", "北关", "中街", "新华", "文化", "育才", "永安", "和平", "建设", "红旗",
];

const NUMERALS: [&str; 20] = [
    "一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二", "十三", "十四",
    "十五", "十六", "十七", "十八", "十九", "二十",
];

/// A Chinese ordinal for 1-based `n` (一, 二, …), falling back to digits.
pub fn numeral(n: usize) -> String {
    NUMERALS
        .get(n.wrapping_sub(1))
        .map_or_else(|| n.to_string(), |s| (*s).to_owned())
}

/// A person's name.
pub fn person(rng: &mut ChaCha8Rng) -> String {
    let mut name = String::from(*SURNAMES.choose(rng).expect("non-empty list"));
    for _ in 0..rng.random_range(1..=2) {
        name.push_str(GIVEN.choose(rng).expect("non-empty list"));
    }
    name
}

/// An 11-digit Chinese mobile number.
pub fn phone(rng: &mut ChaCha8Rng) -> String {
    const PREFIXES: [&str; 12] = [
        "138", "139", "137", "136", "135", "158", "159", "187", "188", "177", "189", "199",
    ];
    format!(
        "{}{:08}",
        PREFIXES.choose(rng).expect("non-empty list"),
        rng.random_range(0..100_000_000u32)
    )
}

/// A village (or, in the county seat, a community) name not yet in `taken`.
pub fn village(rng: &mut ChaCha8Rng, urban: bool, taken: &mut Vec<String>) -> String {
    for attempt in 0.. {
        let name = if urban && attempt < 50 {
            format!(
                "{}社区",
                COMMUNITY_FIRST.choose(rng).expect("non-empty list")
            )
        } else {
            format!(
                "{}{}村",
                VILLAGE_FIRST.choose(rng).expect("non-empty list"),
                VILLAGE_SECOND.choose(rng).expect("non-empty list")
            )
        };
        if !taken.contains(&name) {
            taken.push(name.clone());
            return name;
        }
    }
    unreachable!("the loop above only ends by returning")
}
