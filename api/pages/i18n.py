"""Page language: Chinese by default, English on request, remembered in a cookie."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import Request

LANGUAGES = ("zh", "en")
LANG_COOKIE = "lang"

COMMON: Mapping[str, Mapping[str, str]] = {
    "zh": {
        "app": "配送调度",
        "other_language": "English",
        "sign_in": "登录",
        "sign_out": "退出",
        "key": "访问密钥",
        "key_hint": "请输入调度员或司机的访问密钥",
        "signed_in_as": "当前用户",
        "error": "出错了",
        "not_for_role": "此账号没有可用的页面",
        "date": "日期",
        "area": "门店",
        "areas": "可见的门店",
        "retry": "重试",
    },
    "en": {
        "app": "Dispatch",
        "other_language": "中文",
        "sign_in": "Sign in",
        "sign_out": "Sign out",
        "key": "Access key",
        "key_hint": "Enter your dispatcher or driver access key",
        "signed_in_as": "Signed in as",
        "error": "Something went wrong",
        "not_for_role": "There is no page for this account",
        "date": "Date",
        "area": "Area",
        "areas": "Areas you see",
        "retry": "Retry",
    },
}


def language(request: Request) -> str:
    """?lang= wins (the switch link), then the remembered choice, then Chinese."""
    for choice in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
        if choice in LANGUAGES:
            return choice
    return LANGUAGES[0]


def texts(lang: str, *tables: Mapping[str, Mapping[str, str]]) -> dict[str, str]:
    """The page's words in `lang`: the common ones, then each page's own."""
    words = dict(COMMON[lang])
    for table in tables:
        words.update(table[lang])
    return words
