"""台账 (issue 9): the spreadsheets offices keep, in and out of the platform — import items from an Excel
sheet in the columns offices use (PRACTICE.md), export any filtered list of items or assignments with
their lights and due dates, and the template sheet to fill in. The columns and the cells: sheet.py."""
