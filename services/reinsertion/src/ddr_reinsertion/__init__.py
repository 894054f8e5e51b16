"""Reinsertion service: volunteer rounds, package catalogue, budget ledger, disbursements in tranches, follow-up visits."""
