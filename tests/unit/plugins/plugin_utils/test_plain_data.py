"""What the templar hands a filter, as plain data: every container rebuilt
through its own items() (a lazy container renders there), every string a
plain str, booleans and numbers kept."""
import pytest

from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plain_data import plain


class Rendering(dict):
    """Like the templar's lazy dict: what it stores is not what items() gives."""

    def items(self):
        return [(k, v.upper() if isinstance(v, str) else v) for k, v in dict.items(self)]


class Tagged(str):
    pass


class TaggedList(list):
    pass


def test_containers_are_rebuilt_through_items_and_strings_untagged():
    out = plain(Rendering(name=Tagged('lb1'), nested=Rendering(a='x'), items=TaggedList([Tagged('y'), ('z',)])))
    assert out == {'name': 'LB1', 'nested': {'a': 'X'}, 'items': ['y', ['z']]}
    assert [v.__class__ for v in (out, out['nested'], out['items'])] == [dict, dict, list]
    assert [v.__class__ for v in (out['name'], out['items'][0])] == [str, str]


@pytest.mark.parametrize('value', [True, False, None, 0, 51, 1.5])
def test_booleans_numbers_and_none_are_kept(value):
    out = plain({'v': value})['v']
    assert out == value and out.__class__ is value.__class__
