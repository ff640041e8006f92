"""The one reader for platform JSON: each kind of value, each limit, and an error that
names the field's path."""

import json
from datetime import UTC, datetime

import pytest

from channels_app.adapters.payload import (
    MAX_DEPTH,
    MAX_ID_LENGTH,
    MAX_LINE_LENGTH,
    MAX_LIST_ITEMS,
    MAX_STRING_LENGTH,
    JsonObject,
)
from channels_app.contracts import PayloadMalformed, WebhookRejected


def read(data: dict, path: str = "update") -> JsonObject:
    return JsonObject(data, path)


def malformed(call) -> str:
    with pytest.raises(PayloadMalformed) as raised:
        call()
    return raised.value.detail


# The body


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        (b'{"id": 1', "body is not valid JSON"),
        (b"", "body is not valid JSON"),
        (b"\xff\xfe garbage", "body is not valid JSON"),
        (b"[1, 2]", "body must be a JSON object"),
        (b'"text"', "body must be a JSON object"),
        (b"[" * 100_000 + b"]" * 100_000, "body is nested too deeply"),
    ],
)
def test_a_body_that_is_no_json_object_is_malformed(body, complaint):
    assert complaint in malformed(lambda: JsonObject.from_body(body))


def test_the_error_is_refused_with_400():
    error = PayloadMalformed("x")

    assert isinstance(error, WebhookRejected)
    assert error.status_code == 400


def test_a_body_names_its_fields_from_the_given_root():
    update = JsonObject.from_body(b'{"message": {"chat": {}}}', path="update")

    chat = update.required_object("message").required_object("chat")

    assert malformed(lambda: chat.required_integer("id")) == "update.message.chat.id is missing"


def test_without_a_root_fields_are_named_from_the_top():
    payload = JsonObject.from_body(b'{"sender": {}}')

    assert malformed(lambda: payload.required_object("sender").required_id("id")) == (
        "sender.id is missing"
    )


# Objects and lists


def test_objects_read_and_are_named_by_path():
    message = read({"message": {"chat": {"id": 5}}}).required_object("message")

    assert message.path == "update.message"
    assert message.required_object("chat").required_integer("id") == 5
    assert message.object("from") is None
    assert message.has("chat") and not message.has("from")


@pytest.mark.parametrize("value", ["hi", 5, [1], True])
def test_an_object_of_another_type_is_malformed(value):
    assert malformed(lambda: read({"message": value}).object("message")) == (
        "update.message must be an object"
    )


def test_a_missing_required_object_is_named():
    assert malformed(lambda: read({}).required_object("message")) == "update.message is missing"


def test_items_of_a_list_are_named_with_brackets():
    sizes = read({"photo": [{"width": 1}, {"width": "wide"}]}).objects("photo")

    assert [size.path for size in sizes] == ["update.photo[]", "update.photo[]"]
    assert malformed(lambda: sizes[1].integer("width")) == (
        "update.photo[].width must be a 64-bit integer"
    )


def test_an_absent_list_is_empty():
    assert read({"photo": None}).objects("photo") == []


@pytest.mark.parametrize("value", ["x", {"a": 1}, [1, 2], [{"a": 1}, "b"]])
def test_a_list_of_objects_of_another_shape_is_malformed(value):
    assert malformed(lambda: read({"photo": value}).objects("photo")) == (
        f"update.photo must be a list of at most {MAX_LIST_ITEMS} objects"
    )


def test_a_list_over_the_limit_is_malformed():
    payload = read({"entry": [{}] * (MAX_LIST_ITEMS + 1)})

    assert "update.entry must be a list of at most" in malformed(lambda: payload.objects("entry"))
    assert len(read({"entry": [{}] * MAX_LIST_ITEMS}).objects("entry")) == MAX_LIST_ITEMS


def test_a_caller_may_allow_fewer_items():
    payload = read({"attachments": [{}] * 3}, path="")

    assert malformed(lambda: payload.objects("attachments", max_items=2)) == (
        "attachments must be a list of at most 2 objects"
    )


def test_rows_of_objects_read_as_a_grid():
    markup = read({"inline_keyboard": [[{"text": "1"}, {"text": "2"}], [{"text": "3"}]]})

    rows = markup.object_rows("inline_keyboard")

    assert [[button.string("text") for button in row] for row in rows] == [["1", "2"], ["3"]]
    assert rows[0][0].path == "update.inline_keyboard[][]"


@pytest.mark.parametrize("value", [[{"text": "1"}], [["1"]], "rows"])
def test_rows_of_another_shape_are_malformed(value):
    assert "update.inline_keyboard" in malformed(
        lambda: read({"inline_keyboard": value}).object_rows("inline_keyboard")
    )


def test_objects_nested_past_the_limit_are_malformed():
    data: dict = {}
    innermost = data
    for _ in range(MAX_DEPTH + 1):
        innermost["a"] = {}
        innermost = innermost["a"]
    reader = read(data, path="")

    def descend():
        current = reader
        while current is not None:
            current = current.object("a")

    assert "is nested too deeply" in malformed(descend)


def test_a_rule_about_a_whole_object_names_it():
    message = read({"messages": [{}]}, path="value").objects("messages")[0]

    assert str(message.malformed("needs its sender")) == "value.messages[] needs its sender"


# Ids


@pytest.mark.parametrize(
    ("value", "expected"), [("abc", "abc"), (" abc ", "abc"), (123, "123"), (None, "")]
)
def test_ids_are_strings_or_integers_read_as_strings(value, expected):
    assert read({"id": value}).id("id") == expected


@pytest.mark.parametrize("value", [True, 1.5, ["a"], {"a": 1}])
def test_an_id_of_another_type_is_malformed(value):
    assert malformed(lambda: read({"id": value}).id("id")) == (
        "update.id must be a string or an integer"
    )


@pytest.mark.parametrize("value", ["a\x00b", "a\nb", "u\ud800"])
def test_an_id_with_control_characters_or_lone_surrogates_is_malformed(value):
    assert malformed(lambda: read({"id": value}).id("id")) == (
        "update.id contains control characters or lone surrogates"
    )


def test_an_id_keeps_printable_unicode():
    assert read({"id": "zoë\xa01"}).id("id") == "zoë\xa01"


def test_an_id_over_the_limit_is_malformed():
    assert read({"id": "a" * MAX_ID_LENGTH}).id("id") == "a" * MAX_ID_LENGTH
    assert malformed(lambda: read({"id": "a" * (MAX_ID_LENGTH + 1)}).id("id")) == (
        f"update.id is longer than {MAX_ID_LENGTH} characters"
    )
    assert malformed(lambda: read({"id": "abc"}).id("id", max_length=2)) == (
        "update.id is longer than 2 characters"
    )


@pytest.mark.parametrize("value", [None, "", "   "])
def test_a_missing_or_blank_required_id_is_malformed(value):
    assert malformed(lambda: read({"id": value}).required_id("id")) == "update.id is missing"


# Text


def test_strings_are_kept_as_the_database_can_store_them():
    reader = read({"text": "a\x00b \ud800 c\n", "empty": None})

    assert reader.string("text") == "ab ? c\n"
    assert reader.string("absent") == ""
    assert reader.string("empty") == ""


@pytest.mark.parametrize("value", [5, True, ["a"], {"a": "b"}])
def test_a_string_of_another_type_is_malformed(value):
    assert malformed(lambda: read({"text": value}).string("text")) == (
        "update.text must be a string"
    )


def test_a_string_over_the_limit_is_malformed():
    assert len(read({"text": "a" * MAX_STRING_LENGTH}).string("text")) == MAX_STRING_LENGTH
    assert malformed(lambda: read({"text": "a" * (MAX_STRING_LENGTH + 1)}).string("text")) == (
        f"update.text is longer than {MAX_STRING_LENGTH} characters"
    )
    assert malformed(lambda: read({"text": "abc"}).string("text", max_length=2)) == (
        "update.text is longer than 2 characters"
    )


def test_a_required_string_may_be_empty_but_not_absent():
    assert read({"body": ""}).required_string("body") == ""
    assert malformed(lambda: read({}).required_string("body")) == "update.body is missing"


def test_a_line_has_no_control_characters_and_is_cut_to_its_column():
    reader = read({"name": "  Ma\tria\x00 \ud800 ", "long": "n" * 300, "plain": " Zoë "})

    assert reader.line("name") == "Maria ?"
    assert reader.line("plain") == "Zoë"
    assert reader.line("long") == "n" * MAX_LINE_LENGTH
    assert reader.line("long", max_length=10) == "n" * 10
    assert reader.line("absent") == ""


def test_base64_reads_bytes_within_the_limit():
    reader = read({"file": "aGVsbG8=", "bad": "not base64!", "number": 5})

    assert reader.base64("file", max_bytes=5) == b"hello"
    assert reader.base64("absent", max_bytes=5) == b""
    assert malformed(lambda: reader.base64("bad", max_bytes=100)) == "update.bad is not base64"
    assert malformed(lambda: reader.base64("file", max_bytes=2)) == (
        "update.file must be base64 of at most 2 bytes"
    )
    assert "update.number must be base64" in malformed(lambda: reader.base64("number", max_bytes=9))


# Numbers and booleans


def test_integers_are_64_bit():
    reader = read({"small": -(2**63), "large": 2**63 - 1, "over": 2**63, "absent": None})

    assert reader.integer("small") == -(2**63)
    assert reader.integer("large") == 2**63 - 1
    assert reader.integer("absent") is None
    assert malformed(lambda: reader.integer("over")) == "update.over must be a 64-bit integer"


@pytest.mark.parametrize("value", ["5", True, 1.0, [1]])
def test_an_integer_of_another_type_is_malformed(value):
    assert malformed(lambda: read({"size": value}).integer("size")) == (
        "update.size must be a 64-bit integer"
    )


def test_an_integer_may_be_held_to_a_narrower_range():
    reader = read({"size": -1})

    assert malformed(lambda: reader.integer("size", minimum=0)) == (
        f"update.size must be an integer from 0 to {2**63 - 1}"
    )
    assert malformed(lambda: read({}).required_integer("size")) == "update.size is missing"


def test_numbers_are_finite_floats():
    reader = read({"integer": 50, "float": 1.5})

    assert reader.number("integer") == 50.0
    assert reader.number("float") == 1.5
    assert reader.number("absent") is None
    assert malformed(lambda: read({}).required_number("latitude")) == (
        "update.latitude must be a number"
    )


@pytest.mark.parametrize("value", ["1.5", True, float("nan"), float("inf")])
def test_a_number_of_another_type_or_not_finite_is_malformed(value):
    assert malformed(lambda: read({"latitude": value}).number("latitude")) == (
        "update.latitude must be a number"
    )


def test_booleans_are_true_or_false_and_false_when_absent():
    reader = read({"yes": True, "no": False, "text": "true", "one": 1})

    assert reader.boolean("yes") is True
    assert reader.boolean("no") is False
    assert reader.boolean("absent") is False
    for key in ("text", "one"):
        assert malformed(lambda key=key: reader.boolean(key)) == (
            f"update.{key} must be true or false"
        )


# Times


@pytest.mark.parametrize(
    "value",
    [
        1_700_000_000,
        1_700_000_000.0,
        "1700000000",
        "2023-11-14T22:13:20Z",
        "2023-11-14T22:13:20+00:00",
        "2023-11-15T00:13:20+02:00",
        "2023-11-14T22:13:20",
    ],
)
def test_a_time_is_unix_seconds_or_iso_8601(value):
    assert read({"date": value}).timestamp("date") == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)


def test_an_absent_time_is_none():
    assert read({"date": None}).timestamp("date") is None


@pytest.mark.parametrize(
    ("value", "complaint"),
    [
        ("yesterday", "update.date is not a valid time"),
        ("9999-12-31T23:59:59-23:00", "update.date is not a valid time"),
        (10**20, "update.date is not a valid time"),
        (float("nan"), "update.date is not a valid time"),
        (-1e12, "update.date is not a valid time"),
        (-1, "update.date must lie between the years 1970 and 2200"),
        ("2201-01-01T00:00:00Z", "update.date must lie between the years 1970 and 2200"),
        (True, "update.date must be an ISO 8601 string or a Unix time"),
        ([1], "update.date must be an ISO 8601 string or a Unix time"),
    ],
)
def test_a_time_that_is_no_time_or_out_of_range_is_malformed(value, complaint):
    assert complaint in malformed(lambda: read({"date": value}).timestamp("date"))


def test_the_reader_takes_what_json_gives():
    body = json.dumps({"update_id": 1, "message": {"date": 1_700_000_000, "text": "hi"}}).encode()

    message = JsonObject.from_body(body, path="update").required_object("message")

    assert message.string("text") == "hi"
    assert message.timestamp("date") is not None


def test_a_list_of_strings_is_read_as_lines():
    client_info = read({"button_actions": [" text ", "callback\n"]}, "object.client_info")

    assert client_info.lines("button_actions") == ["text", "callback"]
    assert client_info.lines("absent") == []
    assert malformed(lambda: read({"actions": ["text", 1]}, "info").lines("actions")) == (
        f"info.actions must be a list of at most {MAX_LIST_ITEMS} strings"
    )
