"""Example applications written against flaskish: ``quickstart.py``
(Flask's quickstart) and ``blog/`` (Flask's tutorial app, ``flaskr``)."""
