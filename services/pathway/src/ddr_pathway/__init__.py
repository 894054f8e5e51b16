"""Pathway service: each person's audited path, programme figures as of any date, replay, audit verification and handover."""
