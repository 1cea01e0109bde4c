Attribute VB_Name = "JixiaoRibbon"
' jixiao ribbon callbacks. "jixiao addin build" writes this module into the VBA project of jixiao.xlam; the
' fallback "jixiao addin install --com-import" imports it through VBProject.VBComponents.Import.
'
' Keep this file ASCII-only: the VBA project stores source in its code page (1252 in the xlwings template) and
' VBComponents.Import reads files in the Windows ANSI code page (GBK on Chinese Windows), so Chinese text is
' built with ChrW(); a test decodes every ChrW sequence.
'
' Each button runs exactly one Python entry point in addin/excel/ribbon.py through RunPython, which lives in the
' "xlwings" module of this add-in (copied unchanged from the xlwings quickstart ribbon template). Python shows
' every message (app.alert); VBA only speaks when no workbook is active, because then there is no calling book.
Option Explicit

' Bumped whenever this module changes; "jixiao addin status" compares it with the installed add-in.
Public Const JIXIAO_CALLBACKS_VERSION As String = "3"

Private mEvents As JixiaoEvents

Public Sub OnRibbonLoad(ribbon As IRibbonUI)
    StartRelinkHandler
End Sub

Public Sub OnCheck(control As IRibbonControl)
    RunEntryPoint "check"
End Sub

Public Sub OnRecalculate(control As IRibbonControl)
    RunEntryPoint "recalculate"
End Sub

Public Sub OnReport(control As IRibbonControl)
    RunEntryPoint "report"
End Sub

Public Sub OnPackage(control As IRibbonControl)
    RunEntryPoint "package"
End Sub

Public Sub OnExportFinal(control As IRibbonControl)
    RunEntryPoint "export_final"
End Sub

Public Sub OnHelp(control As IRibbonControl)
    RunEntryPoint "help"
End Sub

' "jixiao addin doctor" calls these two through Application.Run in a hidden Excel: the version of this
' module, and the same RunPython path the buttons take (Python writes a mark into the active workbook and shows
' no message box).
Public Function CallbacksVersion() As String
    CallbacksVersion = JIXIAO_CALLBACKS_VERSION
End Function

Public Sub DoctorRunPython()
    RunPython "from addin.excel import ribbon; ribbon.doctor_ping()"
End Sub

Private Sub RunEntryPoint(ByVal entryPoint As String)
    ' A VBA reset (e.g. after an error in another add-in) drops module variables: re-arm the relink handler.
    StartRelinkHandler
    If ActiveWorkbook Is Nothing Then
        MsgBox NoWorkbookText(), vbExclamation, TitleText()
        Exit Sub
    End If
    Application.StatusBar = RunningText()
    RunPython "from addin.excel import ribbon; ribbon." & entryPoint & "()"
    Application.StatusBar = False
End Sub

Public Sub StartRelinkHandler()
    Dim wb As Workbook
    If Not mEvents Is Nothing Then Exit Sub
    Set mEvents = New JixiaoEvents
    Set mEvents.App = Application
    ' Workbooks opened before the add-in finished loading (double-click on a file starts Excel that way).
    For Each wb In Application.Workbooks
        RelinkToThisAddin wb
    Next wb
End Sub

' Microsoft KB 817578: a workbook that calls functions of an add-in stores them as links to the add-in's
' full path on the PC where it was saved. On another PC that path does not exist and the formulas show the
' old path or #NAME?. Point every link whose file name is this add-in's name at this add-in's own path.
Public Sub RelinkToThisAddin(ByVal wb As Workbook)
    Dim links As Variant
    Dim i As Long
    Dim source As String
    On Error GoTo Done
    If wb Is Nothing Then Exit Sub
    If wb.IsAddin Then Exit Sub
    links = wb.LinkSources(xlExcelLinks)
    If IsEmpty(links) Then Exit Sub
    For i = LBound(links) To UBound(links)
        source = CStr(links(i))
        If StrComp(FileNameOf(source), ThisWorkbook.Name, vbTextCompare) = 0 Then
            If StrComp(source, ThisWorkbook.FullName, vbTextCompare) <> 0 Then
                wb.ChangeLink Name:=source, NewName:=ThisWorkbook.FullName, Type:=xlLinkTypeExcelLinks
            End If
        End If
    Next i
Done:
End Sub

Private Function FileNameOf(ByVal path As String) As String
    Dim p As Long
    p = InStrRev(path, "\")
    If p = 0 Then p = InStrRev(path, "/")
    FileNameOf = Mid$(path, p + 1)
End Function

' Message box title (addin.excel.ribbon.TITLE).
Private Function TitleText() As String
    TitleText = ChrW(&H7EE9) & ChrW(&H6548) & ChrW(&H8BC4) & ChrW(&H4EF7)
End Function

' Status bar text while Python runs (addin.excel.ribbon.RUNNING_TEXT).
Private Function RunningText() As String
    RunningText = ChrW(&H7EE9) & ChrW(&H6548) & ChrW(&H8BC4) & ChrW(&H4EF7) & ChrW(&HFF1A) & ChrW(&H6B63) & _
        ChrW(&H5728) & ChrW(&H8FD0) & ChrW(&H884C) & ChrW(&HFF0C) & ChrW(&H8BF7) & ChrW(&H7A0D) & ChrW(&H5019) & _
        ChrW(&H2026) & ChrW(&H2026)
End Function

' Shown when no workbook is active (addin.excel.ribbon.NO_WORKBOOK_TEXT).
Private Function NoWorkbookText() As String
    NoWorkbookText = ChrW(&H8BF7) & ChrW(&H5148) & ChrW(&H6253) & ChrW(&H5F00) & ChrW(&H6216) & ChrW(&H65B0) & ChrW(&H5EFA) & ChrW(&H4E00) & _
        ChrW(&H4E2A) & ChrW(&H7EE9) & ChrW(&H6548) & ChrW(&H8BC4) & ChrW(&H4EF7) & ChrW(&H5DE5) & ChrW(&H4F5C) & ChrW(&H7C3F) & _
        ChrW(&HFF08) & ChrW(&H5982) & ChrW(&H679C) & ChrW(&H6587) & ChrW(&H4EF6) & ChrW(&H5904) & ChrW(&H4E8E) & ChrW(&H201C) & _
        ChrW(&H53D7) & ChrW(&H4FDD) & ChrW(&H62A4) & ChrW(&H7684) & ChrW(&H89C6) & ChrW(&H56FE) & ChrW(&H201D) & ChrW(&HFF0C) & _
        ChrW(&H8BF7) & ChrW(&H5148) & ChrW(&H70B9) & ChrW(&H51FB) & ChrW(&H201C) & ChrW(&H542F) & ChrW(&H7528) & ChrW(&H7F16) & _
        ChrW(&H8F91) & ChrW(&H201D) & ChrW(&HFF09) & ChrW(&HFF0C) & ChrW(&H518D) & ChrW(&H70B9) & ChrW(&H51FB) & ChrW(&H529F) & _
        ChrW(&H80FD) & ChrW(&H533A) & ChrW(&H6309) & ChrW(&H94AE) & ChrW(&H3002)
End Function
