"""JSON, merge and strategic merge patches as the API server applies them."""

from __future__ import annotations

import pytest

from simulator.api.json_patch import apply_json_patch
from simulator.api.patching import (
    PatchError,
    apply_merge_patch,
    apply_strategic_merge_patch,
)

POD_SPEC = {
    "containers": [
        {
            "name": "web",
            "image": "web:1",
            "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
            "volumeMounts": [{"name": "data", "mountPath": "/data"}],
            "ports": [{"containerPort": 80}],
        },
        {"name": "side", "image": "side:1"},
    ],
    "volumes": [{"name": "data", "emptyDir": {}}],
}


def test_merge_patch_null_deletes_and_lists_replace() -> None:
    """RFC 7386: null removes a key, lists are replaced whole."""
    out = apply_merge_patch(
        {"a": 1, "b": [1, 2], "c": {"d": 1}}, {"a": None, "b": [3], "c": {"e": 2}}
    )
    assert out == {"b": [3], "c": {"d": 1, "e": 2}}


def test_json_patch_operations() -> None:
    """add, replace, remove, move, copy and test work on nested paths and list indexes."""
    doc = {"a": {"b": [1, 2]}, "x": 1}
    out = apply_json_patch(
        doc,
        [
            {"op": "add", "path": "/a/b/-", "value": 3},
            {"op": "replace", "path": "/x", "value": 2},
            {"op": "copy", "from": "/x", "path": "/y"},
            {"op": "move", "from": "/y", "path": "/z"},
            {"op": "remove", "path": "/a/b/0"},
            {"op": "test", "path": "/z", "value": 2},
        ],
    )
    assert out == {"a": {"b": [2, 3]}, "x": 2, "z": 2}
    assert doc == {"a": {"b": [1, 2]}, "x": 1}


def test_json_patch_failed_test_raises() -> None:
    """A failing test operation rejects the whole patch."""
    with pytest.raises(PatchError, match=r"^testing value /a failed: test failed$"):
        apply_json_patch({"a": 1}, [{"op": "test", "path": "/a", "value": 2}])


@pytest.mark.parametrize(
    ("op", "result"),
    [
        # json-patch v4: a map's get never fails, so replace of a missing key adds it.
        ({"op": "replace", "path": "/m/new", "value": 1}, {"m": {"k": "v", "new": 1}, "l": [1, 2]}),
        ({"op": "test", "path": "/m/absent", "value": None}, {"m": {"k": "v"}, "l": [1, 2]}),
        ({"op": "test", "path": "/m/absent"}, {"m": {"k": "v"}, "l": [1, 2]}),
        ({"op": "add", "path": "/l/-1", "value": 0}, {"m": {"k": "v"}, "l": [1, 2, 0]}),
        ({"op": "remove", "path": "/l/-1"}, {"m": {"k": "v"}, "l": [1]}),
        (
            {"op": "copy", "from": "/m/absent", "path": "/c"},
            {"m": {"k": "v"}, "l": [1, 2], "c": None},
        ),
        ({"op": "replace", "path": "m/k", "value": 2}, {"m": {"k": "v"}, "l": [1, 2], "k": 2}),
    ],
    ids=[
        "replace-missing-key",
        "test-null",
        "test-no-value",
        "negative-add",
        "negative-remove",
        "copy-missing",
        "no-slash",
    ],
)
def test_json_patch_follows_the_library_kube_apiserver_uses(
    op: dict[str, object], result: dict[str, object]
) -> None:
    assert apply_json_patch({"m": {"k": "v"}, "l": [1, 2]}, [op]) == result


@pytest.mark.parametrize(
    ("op", "words"),
    [
        (
            {"op": "replace", "path": "/l/5", "value": 1},
            "replace operation does not apply: doc is missing key: /l/5: missing value",
        ),
        (
            {"op": "replace", "path": "/x/y", "value": 1},
            "replace operation does not apply: doc is missing path: /x/y: missing value",
        ),
        (
            {"op": "add", "path": "/x/y", "value": 1},
            'add operation does not apply: doc is missing path: "/x/y": missing value',
        ),
        (
            {"op": "add", "path": "/l/3", "value": 1},
            "error in add for path: '/l/3': Unable to access invalid index: 3: "
            "invalid index referenced",
        ),
        (
            {"op": "add", "path": "/l/a", "value": 1},
            "error in add for path: '/l/a': value was not a proper array index: 'a': "
            'strconv.Atoi: parsing "a": invalid syntax',
        ),
        (
            {"op": "remove", "path": "/m/absent"},
            "error in remove for path: '/m/absent': Unable to remove nonexistent key: absent: "
            "missing value",
        ),
        (
            {"op": "move", "from": "/m/absent", "path": "/z"},
            "error in move for path: 'absent': Unable to remove nonexistent key: absent: "
            "missing value",
        ),
        (
            {"op": "move", "path": "/z"},
            "move operation failed to decode from: operation, missing from field: missing value",
        ),
        ({"op": "test", "path": "/m/k", "value": "w"}, "testing value /m/k failed: test failed"),
        ({"op": "bogus", "path": "/m"}, "Unexpected kind: bogus"),
        ({"op": "add", "value": 1}, "add operation failed to decode path: missing value"),
    ],
)
def test_json_patch_refuses_in_the_librarys_words(op: dict[str, object], words: str) -> None:
    with pytest.raises(PatchError) as refused:
        apply_json_patch({"m": {"k": "v"}, "l": [1, 2]}, [op])
    assert str(refused.value) == words


def test_strategic_merge_by_keys() -> None:
    """containers and env by name, volumeMounts by mountPath, ports by containerPort."""
    patch = {
        "containers": [
            {
                "name": "web",
                "env": [{"name": "B", "value": "3"}, {"name": "C", "value": "4"}],
                "volumeMounts": [{"mountPath": "/data", "subPath": "pgdata"}],
                "ports": [{"containerPort": 80, "name": "http"}],
            }
        ]
    }
    out = apply_strategic_merge_patch(POD_SPEC, patch)
    web = out["containers"][0]
    assert [c["name"] for c in out["containers"]] == ["web", "side"]
    assert web["env"] == [
        {"name": "A", "value": "1"},
        {"name": "B", "value": "3"},
        {"name": "C", "value": "4"},
    ]
    assert web["volumeMounts"] == [{"name": "data", "mountPath": "/data", "subPath": "pgdata"}]
    assert web["ports"] == [{"containerPort": 80, "name": "http"}]
    assert web["image"] == "web:1"


def test_strategic_patch_delete_directive_and_element_order() -> None:
    """`$patch: delete` removes a list item; `$setElementOrder` directives are not stored."""
    patch = {
        "$setElementOrder/containers": [{"name": "web"}],
        "containers": [{"name": "side", "$patch": "delete"}],
    }
    out = apply_strategic_merge_patch(POD_SPEC, patch)
    assert [c["name"] for c in out["containers"]] == ["web"]
    assert not any(k.startswith("$") for k in out)


def test_strategic_patch_replace_directive_on_a_map() -> None:
    """`$patch: replace` replaces a whole map."""
    out = apply_strategic_merge_patch(
        {"spec": {"a": 1, "b": 2}}, {"spec": {"$patch": "replace", "c": 3}}
    )
    assert out == {"spec": {"c": 3}}


def test_strategic_merge_conditions_by_type() -> None:
    """Status conditions merge by type."""
    live = {
        "conditions": [
            {"type": "Ready", "status": "False"},
            {"type": "Scheduled", "status": "True"},
        ]
    }
    out = apply_strategic_merge_patch(live, {"conditions": [{"type": "Ready", "status": "True"}]})
    assert out["conditions"] == [
        {"type": "Ready", "status": "True"},
        {"type": "Scheduled", "status": "True"},
    ]


def test_lists_without_merge_keys_are_replaced() -> None:
    """args and command (no merge key) are replaced whole."""
    out = apply_strategic_merge_patch({"args": ["a", "b"]}, {"args": ["c"]})
    assert out == {"args": ["c"]}


def test_a_merged_list_takes_strategicpatchs_order() -> None:
    """The patch's items first in its order, a server-only item where it stood before one
    (kube-apiserver's, judged by test_fake_api_vs_apiserver_patches.py)."""
    env = {"env": [{"name": "A"}, {"name": "B"}]}
    assert apply_strategic_merge_patch(env, {"env": [{"name": "C"}]}) == {
        "env": [{"name": "C"}, {"name": "A"}, {"name": "B"}]
    }
    assert apply_strategic_merge_patch(env, {"env": [{"name": "B", "value": "2"}]}) == {
        "env": [{"name": "A"}, {"name": "B", "value": "2"}]
    }
    ordered = {"$setElementOrder/env": [{"name": "B"}, {"name": "C"}, {"name": "A"}]}
    assert apply_strategic_merge_patch(env, {**ordered, "env": [{"name": "C"}]}) == {
        "env": [{"name": "B"}, {"name": "C"}, {"name": "A"}]
    }
    held = {"finalizers": ["example.com/b"]}
    assert apply_strategic_merge_patch(held, {"finalizers": ["example.com/a"]}) == {
        "finalizers": ["example.com/a", "example.com/b"]
    }


def test_retain_keys_keep_only_what_they_name() -> None:
    strategy = {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}}
    patch = {"strategy": {"$retainKeys": ["type"], "type": "Recreate", "rollingUpdate": None}}
    assert apply_strategic_merge_patch(strategy, patch) == {"strategy": {"type": "Recreate"}}
