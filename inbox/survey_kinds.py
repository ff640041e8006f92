"""The survey kinds and their scales: CSAT (1-5), CES (1-7, 7 = very easy), NPS (0-10).

One survey model and one state machine serve every kind (inbox.csat); a kind only decides
the question, the values a customer may answer with and what those values are called.
"""

from dataclasses import dataclass, field

from django.utils import translation
from django.utils.translation import gettext_noop


@dataclass(frozen=True)
class SurveyScale:
    kind: str
    lowest: int
    highest: int
    # The question asked when the channel has no text of its own for it.
    question: str
    # Names of the values (untranslated); a value without one is shown as its number.
    value_labels: dict[int, str] = field(default_factory=dict)
    # Answers up to this value are poor: supervisors are told at once.
    poor_up_to: int = 0

    @property
    def values(self) -> range:
        return range(self.lowest, self.highest + 1)

    def contains(self, value: object) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and value in self.values

    def labels(self, language: str) -> dict[int, str]:
        """Every value of the scale with its name in `language` (or its number)."""
        with translation.override(language):
            return {
                value: translation.gettext(self.value_labels[value])
                if value in self.value_labels
                else str(value)
                for value in self.values
            }


CSAT = SurveyScale(
    kind="csat",
    lowest=1,
    highest=5,
    question=gettext_noop("How would you rate the help you received?"),
    value_labels={
        1: gettext_noop("Very poor"),
        2: gettext_noop("Poor"),
        3: gettext_noop("Average"),
        4: gettext_noop("Good"),
        5: gettext_noop("Excellent"),
    },
    poor_up_to=2,
)
CES = SurveyScale(
    kind="ces",
    lowest=1,
    highest=7,
    question=gettext_noop("How easy was it to get your issue solved?"),
    value_labels={
        1: gettext_noop("Very difficult"),
        2: gettext_noop("Difficult"),
        3: gettext_noop("Rather difficult"),
        4: gettext_noop("Neither"),
        5: gettext_noop("Rather easy"),
        6: gettext_noop("Easy"),
        7: gettext_noop("Very easy"),
    },
    poor_up_to=3,
)
NPS = SurveyScale(
    kind="nps",
    lowest=0,
    highest=10,
    question=gettext_noop("How likely are you to recommend us to a friend or colleague?"),
    value_labels={0: gettext_noop("Not at all likely"), 10: gettext_noop("Extremely likely")},
    poor_up_to=6,
)
SCALES = {scale.kind: scale for scale in (CSAT, CES, NPS)}
# What a channel may ask after a resolved conversation.
POST_CONTACT_KINDS = (CSAT.kind, CES.kind)
# A bare number up to this many digits, typed while a survey is open, is taken as an
# attempt to answer it: one off the scale gets a hint rather than reopening the talk.
ANSWER_ATTEMPT_DIGITS = 2


def scale_of(kind: str) -> SurveyScale:
    return SCALES.get(kind, CSAT)
