DROP TABLE conversation_presence;
