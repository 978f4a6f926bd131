"""Image references by the distribution grammar, against distribution/reference's own test vectors.

The vectors are those of the Go package's `reference_test.go` (TestReferenceParse) and
`normalize_test.go` (TestValidateReferenceName, TestValidateRemoteName, TestParseRepositoryInfo,
TestNormalizedSplitHostname, TestParseReferenceWithTagAndDigest), run through `parse_image`, which
normalises as `ParseNormalizedNamed` does.
"""

from __future__ import annotations

import pytest

from appliance.errors import InputError
from appliance.oci import ImageRef, parse_image
from appliance.oci.reference import ImageReferenceError

F64 = "f" * 64
F128 = "f" * 128


def test_the_issues_digest_reference() -> None:
    """`ghcr.io/a/b@sha256:...` is repository a/b pinned by digest, not repository `a/b@sha256`."""
    ref = parse_image(f"ghcr.io/a/b@sha256:{F64}")
    assert ref == ImageRef("ghcr.io", "a/b", None, f"sha256:{F64}")
    assert ref.reference == f"sha256:{F64}"


@pytest.mark.parametrize(
    ("text", "registry", "repository", "tag", "digest"),
    [
        ("busybox", "docker.io", "library/busybox", None, None),
        ("ubuntu:22.04", "docker.io", "library/ubuntu", "22.04", None),
        ("localhost:5000/app:1", "localhost:5000", "app", "1", None),
        ("localhost/app", "localhost", "app", None, None),
        (
            "ghcr.io/nine-minds/alga-psa-ee:94446747",
            "ghcr.io",
            "nine-minds/alga-psa-ee",
            "94446747",
            None,
        ),
        # reference_test.go, TestReferenceParse (named inputs; normalised onto docker.io)
        ("test_com", "docker.io", "library/test_com", None, None),
        ("test.com:tag", "docker.io", "library/test.com", "tag", None),
        ("test.com:5000", "docker.io", "library/test.com", "5000", None),
        ("test.com/repo:tag", "test.com", "repo", "tag", None),
        ("test:5000/repo", "test:5000", "repo", None, None),
        ("test:5000/repo:tag", "test:5000", "repo", "tag", None),
        (f"test:5000/repo@sha256:{F64}", "test:5000", "repo", None, f"sha256:{F64}"),
        (f"test:5000/repo:tag@sha256:{F64}", "test:5000", "repo", "tag", f"sha256:{F64}"),
        ("lowercase:Uppercase", "docker.io", "library/lowercase", "Uppercase", None),
        (
            "sub-dom1.foo.com/bar/baz/quux:some-long-tag",
            "sub-dom1.foo.com",
            "bar/baz/quux",
            "some-long-tag",
            None,
        ),
        (
            "b.gcr.io/test.example.com/my-app:test.example.com",
            "b.gcr.io",
            "test.example.com/my-app",
            "test.example.com",
            None,
        ),
        ("xn--n3h.com/myimage:xn--n3h.com", "xn--n3h.com", "myimage", "xn--n3h.com", None),
        (
            f"xn--7o8h.com/myimage:xn--7o8h.com@sha512:{F128}",
            "xn--7o8h.com",
            "myimage",
            "xn--7o8h.com",
            f"sha512:{F128}",
        ),
        ("foo_bar.com:8080", "docker.io", "library/foo_bar.com", "8080", None),
        ("foo/foo_bar.com:8080", "docker.io", "foo/foo_bar.com", "8080", None),
        ("192.168.1.1:5000/repo:5050", "192.168.1.1:5000", "repo", "5050", None),
        ("[2001:db8::1]/repo", "[2001:db8::1]", "repo", None, None),
        ("[2001:db8:1:2:3:4:5:6]/repo:tag", "[2001:db8:1:2:3:4:5:6]", "repo", "tag", None),
        (
            f"[2001:db8::1]:5000/repo:tag@sha256:{F64}",
            "[2001:db8::1]:5000",
            "repo",
            "tag",
            f"sha256:{F64}",
        ),
        ("[::1]:5000/repo", "[::1]:5000", "repo", None, None),
        ("example.com/" + "a" * 255 + ":tag", "example.com", "a" * 255, "tag", None),
        # normalize_test.go, TestNormalizedSplitHostname
        ("test_com/foo", "docker.io", "test_com/foo", None, None),
        ("docker/migrator", "docker.io", "docker/migrator", None, None),
        ("test-com:8080/foo", "test-com:8080", "foo", None, None),
        ("docker.io/foo", "docker.io", "library/foo", None, None),
        ("docker.io/library/foo/bar", "docker.io", "library/foo/bar", None, None),
        ("index.docker.io/library/foo", "docker.io", "library/foo", None, None),
        # normalize_test.go, TestParseRepositoryInfo: upper-case first components are domains
        ("Foo/bar", "Foo", "bar", None, None),
        ("127.0.0.1:8000/private/moonbase", "127.0.0.1:8000", "private/moonbase", None, None),
        # TestParseReferenceWithTagAndDigest
        (
            "busybox:latest@sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa",
            "docker.io",
            "library/busybox",
            "latest",
            "sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa",
        ),
    ],
)
def test_valid_references(
    text: str, registry: str, repository: str, tag: str | None, digest: str | None
) -> None:
    """Each part lands where the Go package puts it."""
    assert parse_image(text) == ImageRef(registry, repository, tag, digest)


@pytest.mark.parametrize(
    "text",
    [
        # reference_test.go, TestReferenceParse errors
        "",
        ":justtag",
        f"@sha256:{F64}",
        "repo@sha256:" + "f" * 34,  # ErrDigestInvalidLength
        f"validname@invaliddigest:{F64}",  # ErrDigestUnsupported
        "Uppercase:tag",
        "test:5000/Uppercase/lowercase:tag",
        "domain/" + "a" * 256 + ":tag",  # ErrNameTooLong
        "aa/asdf$$^/aa",
        "[2001:db8::1]",
        "[2001:db8::1]:5000",
        "[2001:db8::1]:tag",
        "[fe80::1%eth0]:5000/repo",
        "[fe80::1%@invalidzone]:5000/repo",
        # normalize_test.go, TestValidateReferenceName and TestValidateRemoteName
        "https://github.com/docker/docker",
        "docker/Docker",
        "-docker",
        "-docker/docker",
        "-docker.io/docker/docker",
        "docker///docker",
        "docker.io/docker/Docker",
        "docker.io/docker///docker",
        "[fc00::1]",
        "[fc00::1]:5000",
        "fc00::1:5000/debian",
        "[2001:db8:3:4::192.0.2.33]:5000/debian",
        "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
        "docker-/docker",
        "-docker-/docker",
        "____/____",
        "_docker/_docker",
        "dock..er/docker",
        "dock_.er/docker",
        "dock-.er/docker",
        "docker/",
    ],
)
def test_invalid_references_are_input_errors(text: str) -> None:
    """A reference the Go package rejects is an InputError quoting it (exit 2, one line)."""
    with pytest.raises(ImageReferenceError) as raised:
        parse_image(text)
    assert isinstance(raised.value, InputError)
    assert repr(text) in str(raised.value)


@pytest.mark.parametrize(
    "text",
    [
        "docker/docker",
        "library/debian",
        "debian",
        "index.docker.io/docker/docker",
        "127.0.0.1:5000/library/debian",
        "192.168.0.1",
        "192.168.0.1:80",
        "192.168.0.2:25000/debian",
        "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
        "[fc00::1]:5000/docker/docker",
        "[fc00:1:2:3:4:5:6:7]:5000/library/debian",
        "docker.io/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
        "DOCKER/docker",
        "docker---rules/docker",
        "d/docker",
        "jess/t",
        "dock__er/docker",
    ],
)
def test_valid_names_parse(text: str) -> None:
    """normalize_test.go's valid repository names parse."""
    assert parse_image(text).repository


def test_manifest_reference_prefers_the_digest_and_defaults_to_latest() -> None:
    """A digest pins (tag and digest: the digest is fetched); no tag means `latest`."""
    both = parse_image(f"ghcr.io/a/b:1.0@sha256:{F64}")
    assert both.reference == f"sha256:{F64}"
    assert str(both) == f"ghcr.io/a/b:1.0@sha256:{F64}"
    assert parse_image("ghcr.io/a/b").reference == "latest"
    assert parse_image("busybox").api_host == "registry-1.docker.io"
    assert parse_image("ghcr.io/a/b").api_host == "ghcr.io"
