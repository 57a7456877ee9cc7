"""Coaching: one question in, a vetted card, a refusal that teaches, or an honest "no guidance" out."""
