"""The footer pages' first text, in English and German, that staff rewrite in the admin.

Added by migration 0002 (and by the tests, whose transactional cases empty the tables);
rows that exist already, staff's text, are left alone.
"""

DEFAULT_PAGES = {
    ("contact", "en"): (
        "Contact us",
        "Questions about an order, a product or a return? Write to us and we answer within "
        "one working day.\n\n"
        "Please include your order number (it starts each order email) so that we can help "
        "you faster.",
    ),
    ("contact", "de"): (
        "Kontakt",
        "Fragen zu einer Bestellung, einem Produkt oder einer Rücksendung? Schreiben Sie uns, "
        "wir antworten innerhalb eines Werktags.\n\n"
        "Bitte nennen Sie Ihre Bestellnummer (sie steht in jeder Bestell-E-Mail), damit wir "
        "Ihnen schneller helfen können.",
    ),
    ("shipping-returns", "en"): (
        "Shipping and returns",
        "We ship paid orders within two working days and email you when your parcel is on "
        "its way.\n\n"
        "Changed your mind? Return unused items within 30 days of delivery for a full "
        "refund to the card you paid with. Write to us first and we send you the return "
        "address.",
    ),
    ("shipping-returns", "de"): (
        "Versand und Rückgabe",
        "Bezahlte Bestellungen versenden wir innerhalb von zwei Werktagen und schicken Ihnen "
        "eine E-Mail, sobald Ihr Paket unterwegs ist.\n\n"
        "Doch nicht das Richtige? Senden Sie unbenutzte Artikel innerhalb von 30 Tagen nach "
        "Lieferung zurück und erhalten Sie den vollen Betrag auf die Karte, mit der Sie "
        "bezahlt haben. Schreiben Sie uns vorher, wir schicken Ihnen die Rücksendeadresse.",
    ),
    ("privacy", "en"): (
        "Privacy",
        "We keep only what we need to sell to you: your email address, your orders and the "
        "address we ship to. We never see your card details: payments are handled by "
        "Stripe.\n\n"
        "We do not sell or share your data for advertising. Write to us to see, correct or "
        "delete what we hold about you.",
    ),
    ("privacy", "de"): (
        "Datenschutz",
        "Wir speichern nur, was wir für Ihren Einkauf brauchen: Ihre E-Mail-Adresse, Ihre "
        "Bestellungen und die Lieferadresse. Ihre Kartendaten sehen wir nie: Zahlungen "
        "wickelt Stripe ab.\n\n"
        "Wir verkaufen Ihre Daten nicht und geben sie nicht für Werbung weiter. Schreiben "
        "Sie uns, um einzusehen, zu berichtigen oder zu löschen, was wir über Sie speichern.",
    ),
}


def add_default_pages(page_model) -> None:
    """Create each default page missing from `page_model`'s table (the real model, or the
    historical one a migration passes)."""
    for (slug, language), (title, body) in DEFAULT_PAGES.items():
        page_model.objects.get_or_create(
            slug=slug, language=language, defaults={"title": title, "body": body}
        )
