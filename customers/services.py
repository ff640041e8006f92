"""Writes on customers: who is writing to us, and merging two profiles into one."""

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from customers.languages import supported_language
from customers.models import Customer, CustomerMerge, Identity, IdentityClaim, IdentityKind
from customers.normalization import InvalidIdentityValue, normalize_identity_value
from customers.selectors import KnownIdentity, identities_known
from customers.transactions import atomic_retrying_conflicts

logger = logging.getLogger(__name__)

PROFILE_FIELDS = ("name", "email", "phone", "language")


@dataclass(frozen=True)
class IdentityEvidence:
    """An identity that came with a message. Verified means the channel vouches for it."""

    kind: str
    value: str
    is_verified: bool = True
    # What the platform shows of the person (see Identity): "" / None when it said nothing.
    avatar_url: str = ""
    client_info: dict[str, object] | None = dataclasses.field(default=None, compare=False)

    def profile_changes(self, identity: Identity | KnownIdentity) -> dict[str, object]:
        """The identity's fields this evidence gives new values of."""
        changes: dict[str, object] = {}
        if self.avatar_url and self.avatar_url != identity.avatar_url:
            changes["avatar_url"] = self.avatar_url
        if self.client_info is not None and self.client_info != identity.client_info:
            changes["client_info"] = self.client_info
        return changes


class CustomerMergeError(Exception):
    pass


def _normalized(evidence: Sequence[IdentityEvidence]) -> list[IdentityEvidence]:
    result: list[IdentityEvidence] = []
    seen: set[tuple[str, str, bool]] = set()
    for item in evidence:
        try:
            value = normalize_identity_value(item.kind, item.value)
        except InvalidIdentityValue:
            logger.info("ignoring invalid %s identity", item.kind)
            continue
        key = (item.kind, value, item.is_verified)
        if key not in seen:
            seen.add(key)
            result.append(
                replace(item, value=value, avatar_url=avatar_url_storable(item.avatar_url))
            )
    return result


def avatar_url_storable(url: str) -> str:
    """The picture's address as an identity keeps it; "" for one it would not show."""
    url = url.strip()
    max_length = Identity._meta.get_field("avatar_url").max_length or 0
    if len(url) > max_length or not url.startswith(("https://", "http://")):
        return ""
    return url


@dataclass(frozen=True)
class CustomerIdentified:
    customer: Customer
    is_created: bool
    # (kind, normalized value) of the vouched-for identities known reachable now.
    reachable_identities: frozenset[tuple[str, str]]


def customer_identify(
    *, identities: Sequence[IdentityEvidence], name: str = "", language: str = ""
) -> CustomerIdentified:
    """The one customer behind a message's identities, whether it was created now, and
    which of the identities are known reachable (so that a caller about to record them
    reachable can skip the write).

    The first verified identity that is already known decides the customer. Verified
    identities not yet known are attached to that customer, so a person writing from
    a second channel with the same email or phone stays one profile. Identities that
    belong to somebody else are never taken over, and unverified ones are only kept as
    claims. Order matters: adapters pass the channel's own id first.
    """
    evidence = _normalized(identities)
    verified = [item for item in evidence if item.is_verified]
    if not verified:
        raise ValueError("a customer needs at least one identity vouched for by the channel")
    claims = [item for item in evidence if not item.is_verified]
    name = name.strip()[: Customer._meta.get_field("name").max_length]
    language = supported_language(language)
    # A concurrent request may create one of these identities first: resolving again
    # then finds it.
    return atomic_retrying_conflicts(lambda: _resolve(verified, claims, name, language))


def _resolve(
    verified: list[IdentityEvidence], claims: list[IdentityEvidence], name: str, language: str
) -> CustomerIdentified:
    known = identities_known([(item.kind, item.value) for item in verified])
    customer = next(
        (
            known[(item.kind, item.value)].customer
            for item in verified
            if (item.kind, item.value) in known
        ),
        None,
    )
    is_created = customer is None
    if customer is None:
        customer = Customer.objects.create(
            name=name,
            email=_first_value(verified, IdentityKind.EMAIL),
            phone=_first_value(verified, IdentityKind.PHONE),
            language=language,
        )
    else:
        _fill_blank_profile_fields(customer, name=name, language=language, identities=verified)

    missing = [item for item in verified if (item.kind, item.value) not in known]
    if missing:
        Identity.objects.bulk_create(
            [
                Identity(
                    customer=customer,
                    kind=item.kind,
                    value=item.value,
                    avatar_url=item.avatar_url,
                    client_info=item.client_info or {},
                )
                for item in missing
            ]
        )
    for item in verified:
        identity = known.get((item.kind, item.value))
        if identity is not None and identity.customer.pk == customer.pk:
            _identity_profile_update(identity.id, item.profile_changes(identity))
    for claim in claims:
        if (claim.kind, claim.value) in known and known[
            (claim.kind, claim.value)
        ].customer.pk == customer.pk:
            continue
        IdentityClaim.objects.get_or_create(customer=customer, kind=claim.kind, value=claim.value)
    reachable = frozenset(
        (item.kind, item.value)
        for item in verified
        # A new identity is reachable; a known one of somebody else's is not this
        # customer's to vouch for.
        if (item.kind, item.value) not in known
        or (
            known[(item.kind, item.value)].is_reachable
            and known[(item.kind, item.value)].customer.pk == customer.pk
        )
    )
    return CustomerIdentified(customer, is_created, reachable)


def _first_value(identities: Sequence[IdentityEvidence], kind: str) -> str:
    return next((item.value for item in identities if item.kind == kind), "")


def _fill_blank_profile_fields(
    customer: Customer, *, name: str, language: str, identities: Sequence[IdentityEvidence]
) -> None:
    updates = {
        "name": name,
        "language": language,
        "email": _first_value(identities, IdentityKind.EMAIL),
        "phone": _first_value(identities, IdentityKind.PHONE),
    }
    changed = [field for field, value in updates.items() if value and not getattr(customer, field)]
    if changed:
        for field in changed:
            setattr(customer, field, updates[field])
        customer.save(update_fields=[*changed, "updated_at"])


def _identity_profile_update(identity_id: int, changes: dict[str, object]) -> None:
    if changes:
        Identity.objects.filter(pk=identity_id).update(**changes)


def identity_username_set(*, kind: str, value: str, username: str) -> int:
    """Keep the handle the platform shows for the person with this identity (Instagram's
    username, VK's screen name), beside the name it gives."""
    username = username.strip()[: Identity._meta.get_field("username").max_length]
    try:
        normalized = normalize_identity_value(kind, value)
    except InvalidIdentityValue:
        return 0
    return (
        Identity.objects.filter(kind=kind, value=normalized)
        .exclude(username=username)
        .update(username=username)
    )


def customer_name_fill(*, kind: str, value: str, name: str) -> int:
    """Give the customer who has this identity the name their platform shows, unless they
    have a name already (an operator's or another channel's stays)."""
    name = name.strip()[:255]
    try:
        normalized = normalize_identity_value(kind, value)
    except InvalidIdentityValue:
        return 0
    if not name:
        return 0
    return Customer.objects.filter(
        identities__kind=kind, identities__value=normalized, name=""
    ).update(name=name, updated_at=timezone.now())


def identity_set_reachable(*, kind: str, value: str, is_reachable: bool) -> int:
    """Record that the customer blocked (or unblocked) us on a channel, or that mail to
    the address bounces (or reaches them again)."""
    try:
        normalized = normalize_identity_value(kind, value)
    except InvalidIdentityValue:
        return 0
    return (
        Identity.objects.filter(kind=kind, value=normalized)
        .exclude(is_reachable=is_reachable)
        .update(is_reachable=is_reachable)
    )


@transaction.atomic
def customer_merge(*, survivor: Customer, merged: Customer, merged_by=None) -> CustomerMerge:
    """Move `merged`'s identities, claims and notes into `survivor`, and keep an audit record.

    The merged profile is kept (pointing at its survivor) so the merge can be undone.
    Callers owning other records of a customer move them and add their ids to `moved`.
    """
    survivor, merged = _lock_pair(survivor, merged)
    if survivor.pk == merged.pk:
        raise CustomerMergeError(gettext("a customer cannot be merged into itself"))
    if survivor.is_merged or merged.is_merged:
        raise CustomerMergeError(gettext("one of these customers was already merged into another"))
    if survivor.erased_at or merged.erased_at:
        raise CustomerMergeError(gettext("one of these customers' personal data was erased"))

    survivor_claims = set(survivor.claims.values_list("kind", "value"))
    moved = {
        "identities": list(merged.identities.values_list("pk", flat=True)),
        # A value both claimed stays with the merged profile: the survivor shows it already.
        "claims": [
            pk
            for pk, kind, value in merged.claims.values_list("pk", "kind", "value")
            if (kind, value) not in survivor_claims
        ],
        "notes": list(merged.notes.values_list("pk", flat=True)),
    }
    Identity.objects.filter(pk__in=moved["identities"]).update(customer=survivor)
    IdentityClaim.objects.filter(pk__in=moved["claims"]).update(customer=survivor)
    merged.notes.filter(pk__in=moved["notes"]).update(customer=survivor)

    fields_before = {field: getattr(survivor, field) for field in PROFILE_FIELDS}
    fields_before["attributes"] = dict(survivor.attributes)
    for field in PROFILE_FIELDS:
        if not getattr(survivor, field) and getattr(merged, field):
            setattr(survivor, field, getattr(merged, field))
    survivor.attributes = {**merged.attributes, **survivor.attributes}
    survivor.save()
    merged.merged_into = survivor
    merged.save(update_fields=["merged_into", "updated_at"])
    return CustomerMerge.objects.create(
        survivor=survivor,
        merged=merged,
        merged_by=merged_by,
        moved=moved,
        survivor_fields_before=fields_before,
    )


@transaction.atomic
def customer_merge_undo(*, merge: CustomerMerge, undone_by=None) -> CustomerMerge:
    """Give back to the merged profile everything the merge moved, and restore the survivor."""
    merge = CustomerMerge.objects.select_for_update().get(pk=merge.pk)
    if merge.is_undone:
        raise CustomerMergeError(gettext("this merge was already undone"))
    survivor, merged = _lock_pair(merge.survivor, merge.merged)
    if survivor.erased_at or merged.erased_at:
        raise CustomerMergeError(gettext("one of these customers' personal data was erased"))
    if survivor.is_merged:
        raise CustomerMergeError(
            gettext("the surviving profile was merged again since; undo that first")
        )

    moved = merge.moved
    Identity.objects.filter(pk__in=moved.get("identities", []), customer=survivor).update(
        customer=merged
    )
    IdentityClaim.objects.filter(pk__in=moved.get("claims", []), customer=survivor).update(
        customer=merged
    )
    survivor.notes.filter(pk__in=moved.get("notes", [])).update(customer=merged)
    for field, value in merge.survivor_fields_before.items():
        setattr(survivor, field, value)
    survivor.save()
    merged.merged_into = None
    merged.save(update_fields=["merged_into", "updated_at"])
    merge.undone_at = timezone.now()
    merge.undone_by = undone_by
    merge.save(update_fields=["undone_at", "undone_by"])
    return merge


def _lock_pair(first: Customer, second: Customer) -> tuple[Customer, Customer]:
    locked = {
        customer.pk: customer
        for customer in Customer.objects.select_for_update().filter(pk__in=[first.pk, second.pk])
    }
    return locked[first.pk], locked[second.pk]
