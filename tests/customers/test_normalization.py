"""Identity values in their canonical form, and what is refused rather than guessed."""

import pytest

from customers.normalization import InvalidIdentityValue, normalize_email, normalize_phone


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("+49 151 12345678", "+4915112345678"),
        ("0049 151 12345678", "+4915112345678"),  # 00: the international call prefix
        ("4915112345678", "+4915112345678"),  # as WhatsApp sends numbers: country code first
        ("+34 612-345-678", "+34612345678"),
        ("+1 (415) 555-2671", "+14155552671"),
    ],
)
def test_international_numbers_are_stored_in_e164(given, stored):
    assert normalize_phone(given) == stored


@pytest.mark.parametrize(
    "given",
    [
        "015112345678",  # a German mobile in national form: which country's is unknown
        "0612345678",
        "+49 12",  # too short for any German number
        "+999 1234567",  # no such country code
        "call me",
        "",
    ],
)
def test_numbers_whose_country_or_form_is_unknown_are_refused(given):
    with pytest.raises(InvalidIdentityValue):
        normalize_phone(given)


def test_a_national_number_is_read_in_the_region_given():
    assert normalize_phone("0151 12345678", default_region="DE") == "+4915112345678"


@pytest.mark.parametrize("given", ["Maria@Example.COM ", "maria@example.com"])
def test_emails_are_lower_cased(given):
    assert normalize_email(given) == "maria@example.com"


@pytest.mark.parametrize("given", ["maria", "maria@example", "ma ria@example.com", "@example.com"])
def test_what_is_no_email_address_is_refused(given):
    with pytest.raises(InvalidIdentityValue):
        normalize_email(given)
