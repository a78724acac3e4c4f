"""The conversation stage, between answering and the pipeline: follow-up questions made standalone
(followup), and "who said it" questions answered by a quotation's attribution (attribution)."""
