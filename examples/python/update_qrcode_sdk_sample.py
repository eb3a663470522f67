# -*- coding: utf-8 -*-
# The official ChinaUMS Python sample for bills/update-qrcode (from the
# update-qrcode doc page), changed only where it could not run:
#   - the import line: chinaums.compat instead of the unpublished webapi SDK;
#   - appId/appKey: the ums-sandbox simulator's demo app (public values; the
#     page has the placeholder 平台分配, "assigned by the platform");
#   - the request literal is valid Python (it was JSON-escaped text);
#   - fresh dates (billDate today, expireTime tomorrow, requestTimestamp now,
#     Beijing time) and installmentNumber "12" (10 breaks the rule 3/6/12).
# The request carries no URL, so it implies the official SDK's production,
# which UMS_ENVIRONMENT may replace with the simulator's loopback URL and
# nothing else (UMS_ENVIRONMENT=test is a ConfigError naming environment).
# Run it against the simulator:
#   target/release/ums-sandbox --port 0 &     # prints: ums-sandbox listening on http://127.0.0.1:PORT
#   UMS_ENVIRONMENT=http://127.0.0.1:PORT PYTHONPATH=bindings/python/src \
#       python3 examples/python/update_qrcode_sdk_sample.py      # from the repository root
# billNo is the page's fixed "8888": a second run against the same simulator
# answers DUP_ORDER (账单号重复), as the real gateway would.
import datetime
from chinaums.compat import DefaultOpenApiClient
url = "https://api-mop.chinaums.com/v1/netpay/bills/update-qrcode"
_now = datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=8)))
class DataRequest(object):
    def __init__(self, data: dict) -> dict:
        self.data = data
        self.serviceCode = url[len(url.split("/v")[0])+len(url.split("/")[3])+1: len(url)]
        self.apiVersion = url.split("/")[3]
        self.needToken = True
        self.needDataTag = True
appId="10037e6f66f2d0f901672aa27d690006"
appKey="47ace12ae3b348fe93ab46cee97c6fde"
client = DefaultOpenApiClient(appId, appKey)
cls = DataRequest({"subMchntInfo":"",
"requestTimestamp":_now.strftime("%Y-%m-%d %H:%M:%S"),
"mid":"898340149000005",
"tid":"00000001",
"instMid":"QRPAYDEFAULT",
"qrCodeId":"31942002267733902130410550",
"msgId":"800000000010",
"srcReserve":"test",
"billNo":"8888",
"billDate":_now.strftime("%Y-%m-%d"),
"billDesc":"updateQRCode",
"totalAmount":"26",
"goods":"[{\"goodsId\":\"001\",\"goodsName\":\"鸡蛋\",\"quantity\":\"10\",\"price\":\"1\",\"goodsCategory\":\"food meterial\",\"body\":\"two eggs\"}]",
"memberId":"20200226001",
"counterNo":"06",
"expireTime":(_now + datetime.timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S"),
"notifyUrl":"http://www.test.com/notify",
"returnUrl":"http://www.test.com/return",
"systemId":"31942002267733902130410550",
"secureTransaction":"false",
"walletOption":"SINGLE",
"name":"张*三",
"mobile":"131****3453",
"certType":"IDENTITY_CARD",
"certNo":"110101********9008",
"fixBuyer":"false",
"preauthTransaction":"false",
"installmentNumber":"12",
"retCommParams":"{\"foodOrderType\":\"pre_order\",\"brandId\":\"3421234\",\"storeId\":\"2412343\",\"tableNo\":\"341\",\"parkId\":\"\",\"vehicleNo\":\"\"}",
"attachedData":"test",
"clientIp":"1.1.1.1",
"isEfrcPs":"",
"psPpt":""})
response = client.execute(cls)
print(str(response.get("data")))
print(response.get("errCode"))
print(response.get("errInfo"))
print(response.get("resultCode"))
print(response.get("resultInfo"))
