"""The passes that ``app.matching.annotate`` runs over a text, a module each.

``dictionary`` finds the curated forms as written; ``runs`` cuts the text
into capitalised runs, the candidate names; ``variants`` resolves the runs the
dictionary left unexplained; ``document`` reads each mention in the light of
the names the whole text establishes; ``unresolved`` tells the names no entity
answers to. ``mentions`` holds what they share, ``common_words`` the words a
text's writer holds common.
"""
