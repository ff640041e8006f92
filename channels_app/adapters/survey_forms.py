"""What every channel's survey form shares, whatever the scale (CSAT 1-5, CES 1-7, NPS
0-10): the question with its scale's ends, the invitation to type a number, the title of
a choice and the rows a platform's keyboard can hold."""

from django.utils.translation import gettext

from channels_app.contracts import OutboundSurvey


def question_with_scale(survey: OutboundSurvey) -> str:
    """The question and what its two ends mean ("1 = very poor, 5 = excellent")."""
    return gettext("%(question)s\n%(lowest)s = %(worst)s, %(highest)s = %(best)s") % {
        "question": survey.question,
        "lowest": survey.lowest,
        "highest": survey.highest,
        "worst": survey.rating_labels[survey.lowest].lower(),
        "best": survey.rating_labels[survey.highest].lower(),
    }


def reply_with_a_number(survey: OutboundSurvey) -> str:
    return gettext("Reply with a number from %(lowest)s to %(highest)s.") % {
        "lowest": survey.lowest,
        "highest": survey.highest,
    }


def names_every_value(survey: OutboundSurvey) -> bool:
    """Whether each value has a name of its own (CSAT, CES), or only the ends (NPS)."""
    return all(label != str(value) for value, label in survey.rating_labels.items())


def question_as_shown(survey: OutboundSurvey) -> str:
    """The question, with what the ends of the scale mean where the values are bare numbers."""
    return survey.question if names_every_value(survey) else question_with_scale(survey)


def choice_titles(survey: OutboundSurvey, *, max_length: int) -> dict[int, str]:
    """Each value's title: "4 - Good" where every value has a name, else the number alone
    (the question then says what the ends mean, see question_as_shown)."""
    if not names_every_value(survey):
        return {value: str(value) for value in survey.rating_labels}
    return {
        value: f"{value} - {label}"[:max_length] for value, label in survey.rating_labels.items()
    }


def rows_of(values: list[int], *, max_per_row: int) -> list[list[int]]:
    """The values in as few rows as a keyboard of `max_per_row` allows, the rows as even as
    can be, the longer ones first (0-10 in rows of at most 6: 0-5 and 6-10)."""
    row_count = -(-len(values) // max_per_row)
    rows, start = [], 0
    for index in range(row_count):
        length = len(values) // row_count + (1 if index < len(values) % row_count else 0)
        rows.append(values[start : start + length])
        start += length
    return rows
