"""How an IMAP poll groups the messages it fetches in one command: a bounded number and
size in memory at once, and a message too large, or of unknown size, on its own."""

from channels_app.imap_polling import GROUP_BYTES, GROUP_SIZE, _groups


def test_small_messages_go_in_groups_of_at_most_group_size():
    uids = list(range(1, 2 * GROUP_SIZE + 3))

    groups = _groups(uids, dict.fromkeys(uids, 2_000))

    assert [len(group) for group in groups] == [GROUP_SIZE, GROUP_SIZE, 2]
    assert [uid for group in groups for uid in group] == uids


def test_a_large_message_or_one_of_unknown_size_is_fetched_alone():
    sizes = {1: 1_000, 2: GROUP_BYTES + 1, 3: 1_000, 5: 1_000}

    assert _groups([1, 2, 3, 4, 5], sizes) == [[1], [2], [3], [4], [5]]


def test_a_group_holds_at_most_group_bytes():
    third = GROUP_BYTES // 3

    assert _groups([1, 2, 3, 4], dict.fromkeys([1, 2, 3, 4], third)) == [[1, 2, 3], [4]]
