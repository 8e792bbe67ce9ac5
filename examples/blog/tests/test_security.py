import pytest

from examples.blog.security import check_password_hash, gen_salt, generate_password_hash

# from data.sql: the Flask tutorial's test user, hashed by Werkzeug
TUTORIAL_HASH = (
    "pbkdf2:sha256:50000$TCI4GzcX$0de171a4f4dac32e3364c7ddc7c14f3e2fa61f2d17574483f7ffbb431b4acb2f"
)


def test_scrypt_is_the_default():
    pwhash = generate_password_hash("secret")
    method, salt, digest = pwhash.split("$")
    assert method == "scrypt:32768:8:1"
    assert len(salt) == 16 and salt.isalnum()
    assert len(digest) == 128
    assert check_password_hash(pwhash, "secret")
    assert not check_password_hash(pwhash, "Secret")


@pytest.mark.parametrize(
    ("method", "stored_method"),
    (
        ("pbkdf2:sha256:1000", "pbkdf2:sha256:1000"),
        ("pbkdf2:sha512:1000", "pbkdf2:sha512:1000"),
        ("scrypt:1024:8:1", "scrypt:1024:8:1"),
    ),
)
def test_methods_with_parameters(method, stored_method):
    pwhash = generate_password_hash("secret", method=method, salt_length=8)
    assert pwhash.startswith(f"{stored_method}$")
    assert len(pwhash.split("$")[1]) == 8
    assert check_password_hash(pwhash, "secret")
    assert not check_password_hash(pwhash, "other")


def test_pbkdf2_defaults(monkeypatch):
    monkeypatch.setattr("examples.blog.security.DEFAULT_PBKDF2_ITERATIONS", 1000)
    assert generate_password_hash("secret", method="pbkdf2").startswith("pbkdf2:sha256:1000$")
    assert generate_password_hash("secret", method="pbkdf2:sha1").startswith("pbkdf2:sha1:1000$")


def test_hash_from_the_flask_tutorial_checks():
    assert check_password_hash(TUTORIAL_HASH, "test")
    assert not check_password_hash(TUTORIAL_HASH, "other")


def test_salts_differ():
    assert generate_password_hash("secret") != generate_password_hash("secret")
    assert len(gen_salt(5)) == 5


@pytest.mark.parametrize("pwhash", ("", "plain", "pbkdf2:sha256:1000$salt"))
def test_malformed_hash_does_not_check(pwhash):
    assert not check_password_hash(pwhash, "secret")


@pytest.mark.parametrize(
    ("method", "message"),
    (
        ("md5", "Invalid hash method 'md5'."),
        ("scrypt:1024", "'scrypt' takes 3 arguments."),
        ("pbkdf2:sha256:1000:1", "'pbkdf2' takes 2 arguments."),
    ),
)
def test_invalid_method(method, message):
    with pytest.raises(ValueError) as e:
        generate_password_hash("secret", method=method)
    assert str(e.value) == message


def test_salt_length_must_be_positive():
    with pytest.raises(ValueError, match="at least 1"):
        generate_password_hash("secret", salt_length=0)


def test_interchangeable_with_werkzeug():
    """Hashes move between this module and Werkzeug's in both directions, so a
    database written by the Flask tutorial app keeps working."""
    security = pytest.importorskip("werkzeug.security")
    for method in ("scrypt", "pbkdf2:sha256:1000"):
        assert security.check_password_hash(generate_password_hash("pw", method), "pw")
        assert check_password_hash(security.generate_password_hash("pw", method), "pw")
