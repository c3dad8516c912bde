DROP TABLE bank_lines;
