"""Labelled sets for measuring deduplication on data the matcher was not tuned on.

The registration simulator (``ddr_registration.simulate``) draws names from curated spelling lists, the same
lists the matcher's tables were written from. The builder here is independent of both: other name pools
(:mod:`.pools`, written from Sahelian naming rather than from the simulator), another noise model
(:mod:`.phonology`: names kept as sounds and written by each list's clerks under their own conventions,
French, English or Arabic script), and families, so that brothers, twins and cousins stand on one list
beside the real duplicates (:mod:`.sahel`). :mod:`.evaluate` feeds a set to the matcher in import order and
counts precision and recall per kind of variant.
"""
