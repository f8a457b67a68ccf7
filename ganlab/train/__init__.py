"""The Train page's regions: the buttons, the live panel, the quality block, D's verdicts and step mode."""
