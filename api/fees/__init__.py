"""Paid and free service: warranty, the price list, approved discounts, fees collected on site."""
