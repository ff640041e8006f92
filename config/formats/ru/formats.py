# Django's Russian day-and-month format names the month in the nominative ("7 Декабрь");
# a date reads in the genitive ("7 декабря"), as its full date format already does.
MONTH_DAY_FORMAT = "j E"
