"""Password hashing in Werkzeug's format, for an app without Werkzeug.

Flask's tutorial imports ``generate_password_hash`` and
``check_password_hash`` from ``werkzeug.security``. flaskish does not depend
on Werkzeug, so this module gives the two functions with the same names and
the same stored format, ``method$salt$hash``: hashes made by Werkzeug check
here and the other way round, so an existing flaskr database keeps working.
"""

import hashlib
import hmac
import secrets
import string

SALT_CHARS = string.ascii_letters + string.digits
DEFAULT_PBKDF2_ITERATIONS = 1_000_000


def gen_salt(length):
    """Generate a random string of ``SALT_CHARS`` with the given length."""
    if length <= 0:
        raise ValueError("Salt length must be at least 1.")
    return "".join(secrets.choice(SALT_CHARS) for _ in range(length))


def _hash_internal(method, salt, password):
    """Hash *password* with *salt* by *method* (``scrypt:n:r:p`` or
    ``pbkdf2:hash_name:iterations``, the parameters optional). Return the
    hex digest and the method with all its parameters spelled out."""
    method, *args = method.split(":")
    salt_bytes = salt.encode()
    password_bytes = password.encode()

    if method == "scrypt":
        if not args:
            n, r, p = 2**15, 8, 1
        else:
            try:
                n, r, p = map(int, args)
            except ValueError:
                raise ValueError("'scrypt' takes 3 arguments.") from None
        maxmem = 132 * n * r * p  # what hashlib needs for n, r, p, with headroom
        digest = hashlib.scrypt(password_bytes, salt=salt_bytes, n=n, r=r, p=p, maxmem=maxmem)
        return digest.hex(), f"scrypt:{n}:{r}:{p}"

    if method == "pbkdf2":
        if len(args) > 2:
            raise ValueError("'pbkdf2' takes 2 arguments.")
        hash_name = args[0] if args else "sha256"
        iterations = int(args[1]) if len(args) == 2 else DEFAULT_PBKDF2_ITERATIONS
        digest = hashlib.pbkdf2_hmac(hash_name, password_bytes, salt_bytes, iterations)
        return digest.hex(), f"pbkdf2:{hash_name}:{iterations}"

    raise ValueError(f"Invalid hash method '{method}'.")


def generate_password_hash(password, method="scrypt", salt_length=16):
    """Hash a password for storage, as ``werkzeug.security.generate_password_hash``."""
    salt = gen_salt(salt_length)
    digest, actual_method = _hash_internal(method, salt, password)
    return f"{actual_method}${salt}${digest}"


def check_password_hash(pwhash, password):
    """Whether *password* matches a hash from :func:`generate_password_hash`
    (or Werkzeug's), as ``werkzeug.security.check_password_hash``."""
    try:
        method, salt, digest = pwhash.split("$", 2)
    except ValueError:
        return False
    return hmac.compare_digest(_hash_internal(method, salt, password)[0], digest)
