"""Sites (市/镇街/村 政务服务机构), their departments, windows and opening hours."""
