' jixiao: appended to the ThisWorkbook module of jixiao.xlam by "jixiao addin build" (the template's module
' holds only its Attribute lines). Keep this file ASCII-only.
Option Explicit

Private Sub Workbook_Open()
    ' Relink workbooks that are already open (also when the ribbon is not loaded, e.g. Excel under automation).
    JixiaoRibbon.StartRelinkHandler
    ' Function descriptions for Insert Function: deferred until Excel is idle, see module JixiaoFunctions.
    Application.OnTime Now, "'" & ThisWorkbook.Name & "'!JixiaoRegisterFunctions"
End Sub
