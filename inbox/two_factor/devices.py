"""Operators' authenticator apps, as django-otp's TOTP devices: at most one confirmed
device each; one being set up stays unconfirmed, keeping its secret across page loads,
until its first code confirms it."""

import base64

import segno
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext
from django_otp.plugins.otp_totp.models import TOTPDevice

from inbox.models import User


def device_confirmed_for(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("id").first()


def user_has_two_factor(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def device_being_set_up_for(user: User) -> TOTPDevice:
    """The unconfirmed device of the set-up under way, else a new one."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    if device is None:
        device = TOTPDevice.objects.create(
            user=user, name="Authenticator app", confirmed=False, tolerance=1
        )
    return device


def secret_for_typing(device: TOTPDevice) -> str:
    """The secret in base32, as authenticator apps take it typed, in groups of four."""
    secret = base64.b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(secret[start : start + 4] for start in range(0, len(secret), 4))


def qr_code_svg(device: TOTPDevice) -> SafeString:
    """The set-up link as a QR code drawn inline (SVG), so nothing leaves the page."""
    drawing = segno.make(device.config_url, error="m").svg_inline(
        scale=5,
        dark="#111111",
        light="#ffffff",
        title=gettext("QR code for your authenticator app"),
    )
    return format_html('<span class="two-factor-qr" role="img">{}</span>', SafeString(drawing))
