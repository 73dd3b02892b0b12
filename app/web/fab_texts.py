"""Flask-AppBuilder's own words that its Chinese catalogue leaves untranslated (5.3), and the
labels of its screens we name differently. Listed here so `pybabel extract` keeps them in our
catalogue (app/translations), which is merged over Flask-AppBuilder's: nothing else uses this
module."""

from flask_babel import lazy_gettext as _l

FAB_TEXTS = (
    _l("Database Error"),
    _l("Not a valid choice"),
    _l(
        "Must have at least two capital letters, one special character, two digits, three lower "
        "case letters and a minimal length of 10."
    ),
    _l("Contains (insensitive)"),
    _l("Start with"),
    _l("In"),
    _l("Not In"),
    _l("Edit User Information"),
    _l("User information changed"),
    _l("The user's password for authentication"),
    _l("It's not a good policy to remove a user, just make it inactive"),
    _l("User(s) exists in the role, cannot delete"),
    _l("Show"),
    _l("Are you sure you want to delete this item?"),
    _l("User confirmation needed"),
    _l("Access is Denied"),
    _l("Record Count"),
    _l("Add Filter"),
    # Filter names FAB's catalogue words badly (以开始 for "starts with").
    _l("Starts with"),
    _l("Not Starts with"),
    _l("Ends with"),
    _l("Not Ends with"),
    _l("Relation"),
    _l("No Relation"),
    _l("Relation as Many"),
    # FAB's password help says the application does not check passwords; ours does.
    _l("Please use a good password policy, this application does not check this for you"),
    # The user form's help texts, said for a business admin (FAB's speak of LDAP and OID).
    _l("Username valid for authentication on DB or LDAP, unused for OID auth"),
    _l("The user's email, this will also be used for OID auth"),
    _l("Write the user first name or names"),
    _l("Write the user last name"),
)
