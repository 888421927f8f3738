"""graphql-core's own refusals (syntax, validation, variable coercion) in Turkish.

graphql-core writes them in English only; a Turkish answer must not mix the two languages.
Each known message shape is matched whole and rewritten; the names it quotes (fields,
types, variables, values) stay as they are, since they are the schema's own words. A shape
not listed here gets a general Turkish sentence, and the English original stays readable in
the error's `detail` extension, so nothing a developer needs is lost.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from graphql import GraphQLError

Render = Callable[[re.Match[str]], str]

_Q = r"'([^']*)'"  # a quoted name, as graphql-core quotes them


def _t(template: str) -> Render:
    return lambda match: template.format(*match.groups())


def _nested(template: str) -> Render:
    """The shapes that wrap another message (a variable's value): translate the inner one."""

    def render(match: re.Match[str]) -> str:
        name, at, inner = match.groups()
        where = f" ({at.removeprefix(' at ')} konumunda)" if at else ""
        return template.format(name, where, translate(inner) or GENERAL)

    return render


GENERAL = "istek GraphQL kurallarına uymuyor"
GENERAL_SENTENCE = "İstek GraphQL kurallarına uymuyor."  # str.upper() would give "Istek"

# (pattern, rendering): the first whole match wins. Suggestions ("Did you mean …?") are
# handled apart so that every shape may carry them.
_SHAPES: list[tuple[re.Pattern[str], Render]] = [
    (re.compile(p, re.DOTALL), r)
    for p, r in [
        (
            r"Syntax Error: Document contains more than (\d+) tokens\..*",
            _t("Sorgu en fazla {0} sözcük birimi (token) içerebilir; okunmadı."),
        ),
        (r"Syntax Error: (.*)", lambda m: "Sözdizimi hatası: sorgu metni okunamadı."),
        (
            r"'anonymous' exceeds maximum operation depth of (\d+)",
            _t("Adsız işlem izin verilen en fazla {0} iç içe alan derinliğini aşıyor."),
        ),
        (
            r"'(.*)' exceeds maximum operation depth of (\d+)",
            _t("'{0}' işlemi izin verilen en fazla {1} iç içe alan derinliğini aşıyor."),
        ),
        (
            r"(\d+) aliases found\. Allowed: (\d+)",
            _t("Sorguda {0} takma ad (alias) var; en fazla {1} olabilir."),
        ),
        (
            r"Schema introspection is for staff only: '([^']*)'\.",
            _t("Şema sorgusu (introspection) yalnızca personele açıktır: '{0}'."),
        ),
        (
            rf"Cannot query field {_Q} on type {_Q}\.",
            _t("'{1}' türünde '{0}' adlı bir alan yok."),
        ),
        (
            rf"Unknown argument {_Q} on field {_Q}\.",
            _t("'{1}' alanının '{0}' adlı bir argümanı yok."),
        ),
        (
            rf"Unknown argument {_Q} on directive {_Q}\.",
            _t("'{1}' yönergesinin '{0}' adlı bir argümanı yok."),
        ),
        (
            rf"Field {_Q} argument {_Q} of type {_Q} is required, but it was not provided\.",
            _t("'{0}' alanının '{2}' türündeki '{1}' argümanı zorunlu, ama verilmemiş."),
        ),
        (
            rf"Argument {_Q} of type {_Q} is required, but it was not provided\.",
            _t("'{1}' türündeki '{0}' argümanı zorunlu, ama verilmemiş."),
        ),
        (
            rf"Field {_Q} of type {_Q} must have a selection of subfields\..*",
            _t("'{1}' türündeki '{0}' alanı için alt alanlar seçilmeli."),
        ),
        (
            rf"Field {_Q} must not have a selection since type {_Q} has no subfields\.",
            _t("'{0}' alanının ('{1}') alt alanı yok; alt alan seçilemez."),
        ),
        (
            r"Variable '\$([^']*)' has invalid value( at '[^']*')?: (.*)",
            _nested("'${0}' değişkeninin değeri geçersiz{1}: {2}"),
        ),
        (
            r"Variable '\$([^']*)' has invalid default value( at '[^']*')?: (.*)",
            _nested("'${0}' değişkeninin varsayılan değeri geçersiz{1}: {2}"),
        ),
        (
            r"Variable '\$([^']*)' of required type '([^']*)' was not provided\.",
            _t("'{1}' türündeki '${0}' değişkeni zorunlu, ama verilmemiş."),
        ),
        (
            r"Variable '\$([^']*)' of non-null type '([^']*)' must not be null\.",
            _t("'{1}' türündeki '${0}' değişkeni boş (null) olamaz."),
        ),
        (
            r"Variable '\$([^']*)' is never used(?: in operation '([^']*)')?\.",
            lambda m: f"'${m.group(1)}' değişkeni hiç kullanılmıyor.",
        ),
        (
            r"Variable '\$([^']*)' is not defined(?: by operation '([^']*)')?\.",
            lambda m: f"'${m.group(1)}' değişkeni tanımlanmamış.",
        ),
        (
            r"Variable '\$([^']*)' of type '([^']*)' used in position expecting type '([^']*)'\.",
            _t("'{1}' türündeki '${0}' değişkeni '{2}' türü beklenen yerde kullanılmış."),
        ),
        (
            r"Variable '\$([^']*)' cannot be non-input type '([^']*)'\.",
            _t("'${0}' değişkeninin türü '{1}' bir girdi türü olamaz."),
        ),
        (
            r"There can be only one variable named '\$([^']*)'\.",
            _t("'${0}' adlı yalnızca bir değişken olabilir."),
        ),
        (
            r"Expected a value of non-null type '([^']*)' to be provided\.",
            _t("'{0}' türünde bir değer verilmeli."),
        ),
        (
            rf"Expected value of type {_Q} to include required field {_Q}, found: .*",
            _t("'{0}' türündeki değerde zorunlu '{1}' alanı eksik."),
        ),
        (
            rf"Expected value of type {_Q} not to include unknown field {_Q}.*",
            _t("'{0}' türünde '{1}' adlı bir alan yok."),
        ),
        (
            rf"Field {_Q} of required type {_Q} was not provided\.",
            _t("'{1}' türündeki zorunlu '{0}' alanı verilmemiş."),
        ),
        (
            rf"Field {_Q} is not defined by type {_Q}\.",
            _t("'{1}' türünde '{0}' adlı bir alan yok."),
        ),
        (
            rf"Expected value of type {_Q}, found (.*?)(?:; (.*))?",
            lambda m: (
                f"'{m.group(1)}' türünde bir değer bekleniyordu, verilen: {m.group(2)}"
                + (f" ({translate(m.group(3)) or GENERAL})" if m.group(3) else ".")
            ),
        ),
        (r"Expected type '([^']*)' to be an object\.", _t("'{0}' türü bir nesne olmalı.")),
        (
            r"Int cannot represent non-integer value: (.*)",
            _t("tamsayı (Int) bekleniyordu, verilen: {0}"),
        ),
        (
            r"Int cannot represent non 32-bit signed integer value: (.*)",
            _t("tamsayı 32 bitlik işaretli aralıkta olmalı, verilen: {0}"),
        ),
        (
            r"Float cannot represent non numeric value: (.*)",
            _t("sayı (Float) bekleniyordu, verilen: {0}"),
        ),
        (
            r"String cannot represent a non string value: (.*)",
            _t("metin (String) bekleniyordu, verilen: {0}"),
        ),
        (
            r"Boolean cannot represent a non boolean value: (.*)",
            _t("doğru/yanlış (Boolean) bekleniyordu, verilen: {0}"),
        ),
        (
            r"ID cannot represent a non-string and non-integer value: (.*)",
            _t("kimlik (ID) bekleniyordu, verilen: {0}"),
        ),
        (
            r"Enum '([^']*)' cannot represent non-enum value: (.*?)\.?",
            _t("'{0}' listesinden bir değer bekleniyordu, verilen: {1}."),
        ),
        (
            r"Enum '([^']*)' cannot represent non-string value: (.*?)\.?",
            _t("'{0}' listesinden bir değer bekleniyordu, verilen: {1}."),
        ),
        (
            r"Value '([^']*)' does not exist in '([^']*)' enum\.",
            _t("'{0}' değeri '{1}' listesinde yok."),
        ),
        (r"Unknown type '([^']*)'\.", _t("'{0}' adlı bir tür yok.")),
        (r"Unknown directive '@([^']*)'\.", _t("'@{0}' adlı bir yönerge yok.")),
        (
            r"Directive '@([^']*)' may not be used on (.*)\.",
            _t("'@{0}' yönergesi burada ({1}) kullanılamaz."),
        ),
        (r"Unknown fragment '([^']*)'\.", _t("'{0}' adlı bir parça (fragment) yok.")),
        (r"Fragment '([^']*)' is never used\.", _t("'{0}' parçası (fragment) hiç kullanılmıyor.")),
        (
            r"Cannot spread fragment '([^']*)' within itself.*",
            _t("'{0}' parçası (fragment) kendi içinde kullanılamaz."),
        ),
        (
            r"Fragment '([^']*)' cannot be spread here as objects of type '([^']*)'"
            r" can never be of type '([^']*)'\.",
            _t("'{0}' parçası burada kullanılamaz: '{1}' türü hiçbir zaman '{2}' olamaz."),
        ),
        (
            r"This anonymous operation must be the only defined operation\.",
            lambda m: "Adsız bir işlem, belgedeki tek işlem olmalı.",
        ),
        (
            r"There can be only one operation named '([^']*)'\.",
            _t("'{0}' adlı yalnızca bir işlem olabilir."),
        ),
        (
            r"There can be only one argument named '([^']*)'\.",
            _t("'{0}' adlı yalnızca bir argüman olabilir."),
        ),
        (
            r"There can be only one input field named '([^']*)'\.",
            _t("'{0}' adlı yalnızca bir girdi alanı olabilir."),
        ),
        (
            r"There can be only one fragment named '([^']*)'\.",
            _t("'{0}' adlı yalnızca bir parça (fragment) olabilir."),
        ),
        (
            r"There can be only one directive named '@([^']*)'\.",
            _t("'@{0}' yönergesi bir yerde yalnızca bir kez kullanılabilir."),
        ),
        (
            r"The (query|mutation|subscription) operation is not supported by the schema\.",
            _t("Şema '{0}' işlemini desteklemiyor."),
        ),
        (
            r"The (.*) definition is not executable\.",
            _t("'{0}' tanımı çalıştırılabilir bir işlem değil."),
        ),
        (
            r"(?:Anonymous Subscription|Subscription '([^']*)') must select only one"
            r" top level field\.",
            lambda m: "Bir abonelik (subscription) yalnızca bir kök alan seçebilir.",
        ),
        (
            r"Fields '([^']*)' conflict because (.*)",
            _t("'{0}' alanları çakışıyor: aynı yanıt adı farklı alanlara verilmiş."),
        ),
        (
            r"Maximum introspection depth exceeded",
            lambda m: "Şema sorgusu (introspection) izin verilen derinliği aşıyor.",
        ),
        (
            r"Must provide operation name if query contains multiple operations\.",
            lambda m: "Belgede birden çok işlem var: çalıştırılacak işlemin adı verilmeli.",
        ),
        (r"Unknown operation named '([^']*)'\.", _t("Belgede '{0}' adlı bir işlem yok.")),
    ]
]

_SUGGESTION = re.compile(r"^(.*?) Did you mean (.*)\?$", re.DOTALL)


def translate(message: str) -> str | None:
    """The Turkish of one graphql-core message, or None for a shape not known here."""
    suggestion = ""
    matched = _SUGGESTION.match(message)
    if matched and not matched.group(1).startswith("Field "):
        message = matched.group(1)
        names = matched.group(2).replace(" or ", ", ")
        suggestion = f" Bunu mu demek istediniz: {names}?"
    for pattern, render in _SHAPES:
        found = pattern.fullmatch(message)
        if found:
            return render(found) + suggestion
    return None


def in_turkish(error: GraphQLError) -> GraphQLError:
    """The error with its message in Turkish. A syntax error names its line and column; its
    English description, and any shape not known here, stay readable as `detail`."""
    english = error.message
    turkish = translate(english)
    if english.startswith("Syntax Error: ") and error.locations:
        where = error.locations[0]
        if turkish == "Sözdizimi hatası: sorgu metni okunamadı.":
            turkish = (
                f"Sözdizimi hatası (satır {where.line}, sütun {where.column}):"
                " sorgu metni burada okunamadı."
            )
        error.extensions = {**(error.extensions or {}), "detail": english}
    if turkish is None:
        error.extensions = {**(error.extensions or {}), "detail": english}
        turkish = GENERAL_SENTENCE
    error.message = turkish
    return error
