-- Flags are booleans (they were INTEGER 0/1).
ALTER TABLE programs ALTER COLUMN recourse TYPE BOOLEAN USING recourse <> 0;
ALTER TABLE webhook_subscriptions ALTER COLUMN active TYPE BOOLEAN USING active <> 0;
ALTER TABLE users ALTER COLUMN disabled TYPE BOOLEAN USING disabled <> 0;
ALTER TABLE bank_lines ALTER COLUMN credit TYPE BOOLEAN USING credit <> 0;
ALTER TABLE bank_lines ALTER COLUMN reversal TYPE BOOLEAN USING reversal <> 0;
