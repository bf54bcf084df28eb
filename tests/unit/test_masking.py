from django_prodserver.masking import mask_secrets


def test_passwords_in_urls_are_masked():
    assert mask_secrets("--broker=redis://:hunter2@localhost:6379/0") == (
        "--broker=redis://:********@localhost:6379/0"
    )
    assert mask_secrets("amqp://guest:guest@host//") == "amqp://guest:********@host//"


def test_secret_looking_variables_are_masked():
    assert mask_secrets("--env=DJANGO_SECRET_KEY=abc --env=DEBUG=1") == (
        "--env=DJANGO_SECRET_KEY=******** --env=DEBUG=1"
    )
    assert mask_secrets("API_TOKEN=xyz gunicorn") == "API_TOKEN=******** gunicorn"


def test_ordinary_lines_are_unchanged():
    line = "gunicorn --bind=0.0.0.0:8000 --workers=4 myproject.wsgi:application"
    assert mask_secrets(line) == line


def test_variables_named_like_keys_are_masked_but_option_names_are_not():
    assert mask_secrets("STRIPE_KEY=sk_live gunicorn --keyfile=/etc/key.pem") == (
        "STRIPE_KEY=******** gunicorn --keyfile=/etc/key.pem"
    )


def test_quoted_values_are_masked_whole():
    assert mask_secrets("'DB_PASSWORD=a b c' '--env=API_TOKEN=x y' run") == (
        "'DB_PASSWORD=********' '--env=API_TOKEN=********' run"
    )
