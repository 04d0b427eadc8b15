<%@ Language="VBScript" %>
<%
' Order confirmation: stamps the invoice PDF and mails it.
Dim stamp, mailer, reporter
Set stamp = Server.CreateObject("Contoso.PdfStamp")
stamp.Open Server.MapPath("invoices/" & Request.QueryString("id") & ".pdf")
stamp.AddText "PAID", 72, 720
Set mailer = Server.CreateObject("Contoso.Mailer")
mailer.Send Request.Form("email"), "Your invoice", stamp.Save()
Set reporter = CreateObject("Contoso.Reporter")
reporter.Log "order " & Request.QueryString("id")
%>
<html><body>Thank you for your order.</body></html>
