"""An e-mail names the city of the settings (BEAT_CITY_NAME) and no other: the code names no city."""

from notifications.models import Notification


def test_every_mail_names_the_configured_city_and_never_the_demo_one(
    start_service, stand_ins, smtp_sink, rabbit_config, notifications_db, kit
):
    service = start_service(BEAT_CITY_NAME="Lakeside")
    for concern_id, language, email in (("c-en", "en", "sam@example.org"), ("c-es", "es", "maria@example.org")):
        stand_ins.concerns.reporters[concern_id] = {
            "name": "Sam",
            "email": email,
            "language": language,
            "contact_preference": "email",
        }
        kit.publish(rabbit_config["AMQP_URI"], kit.acknowledged(concern_id))
    kit.wait_for(lambda: len(kit.rows(notifications_db, Notification)) == 2, message="both notifications recorded")
    assert kit.dispatch(service)["outcomes"] == {"delivered": 2}

    mails = {mail["To"]: mail for mail in smtp_sink.mailbox()}
    english, spanish = mails["sam@example.org"], mails["maria@example.org"]
    assert "Beat, Lakeside's community policing platform." in kit.text_part(english)
    assert "Beat, Lakeside&#x27;s community policing platform." in kit.html_part(english)
    assert "policía comunitaria de Lakeside." in kit.text_part(spanish)
    for mail in (english, spanish):
        headers = " ".join(f"{name}: {value}" for name, value in mail.items())
        assert "Riverton" not in headers + kit.text_part(mail) + kit.html_part(mail)
