DROP TABLE program_members;
