import com.chinaums.ums.compat.OpenApiCache;
import com.chinaums.ums.compat.OpenApiContext;
import com.chinaums.ums.compat.ConfigBean;
import com.chinaums.ums.compat.HttpTransport;
import java.util.UUID;
// The official Java sample of the ChinaUMS update-qrcode page, run through
// libums. Changes from the page: the four imports (com.chinaums.ums.compat),
// its broken string literal made valid Java, fresh dates (Beijing time),
// installmentNumber "12" (the page's "10" breaks its own 3/6/12 rule), and
// appId/appKey ("平台分配", assigned by the platform) set to the ums-sandbox
// simulator's public demo app. The URL stays the page's production one: it
// implies production, which UMS_ENVIRONMENT may replace with the simulator's
// loopback URL and nothing else (UMS_ENVIRONMENT=test is a ConfigException
// naming environment). Run it against the simulator:
//   target/release/ums-sandbox --port 0      # prints "ums-sandbox listening on http://127.0.0.1:PORT"
//   UMS_ENVIRONMENT=http://127.0.0.1:PORT java -cp bindings/java/build/classes:bindings/java/build/examples \
//       -Dums.jni.library=bindings/java/build/libumsjni.so OpenApiSdkTest
public class OpenApiSdkTest {
public static void main(String[] args) throws Exception{
String url = "https://api-mop.chinaums.com/v1/netpay/bills/update-qrcode";
//开发者ID
String appId = "10037e6f66f2d0f901672aa27d690006";
//开发者秘钥
String appKey = "47ace12ae3b348fe93ab46cee97c6fde";
//实例化客户端
ConfigBean configBean = new ConfigBean();
OpenApiContext context = new OpenApiContext();
// Fresh dates in Beijing time (the page's 2020 dates are refused today): requestTimestamp now,
// billDate today, expireTime tomorrow.
java.time.ZonedDateTime now = java.time.ZonedDateTime.now(java.time.ZoneOffset.ofHours(8));
String requestTimestamp = now.format(java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss"));
String billDate = now.format(java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd"));
String expireTime = now.plusDays(1).format(java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss"));
String request = "{\"subMchntInfo\":\"\"," +
"\"requestTimestamp\":\"" + requestTimestamp + "\"," +
"\"mid\":\"898340149000005\"," +
"\"tid\":\"00000001\"," +
"\"instMid\":\"QRPAYDEFAULT\"," +
"\"qrCodeId\":\"31942002267733902130410550\"," +
"\"msgId\":\"800000000010\"," +
"\"srcReserve\":\"test\"," +
"\"billNo\":\"8888\"," +
"\"billDate\":\"" + billDate + "\"," +
"\"billDesc\":\"updateQRCode\"," +
"\"totalAmount\":\"26\"," +
"\"goods\":\"[{\\\"goodsId\\\":\\\"001\\\",\\\"goodsName\\\":\\\"鸡蛋\\\",\\\"quantity\\\":\\\"10\\\",\\\"price\\\":\\\"1\\\",\\\"goodsCategory\\\":\\\"food meterial\\\",\\\"body\\\":\\\"two eggs\\\"}]\"," +
"\"memberId\":\"20200226001\"," +
"\"counterNo\":\"06\"," +
"\"expireTime\":\"" + expireTime + "\"," +
"\"notifyUrl\":\"http://www.test.com/notify\"," +
"\"returnUrl\":\"http://www.test.com/return\"," +
"\"systemId\":\"31942002267733902130410550\"," +
"\"secureTransaction\":\"false\"," +
"\"walletOption\":\"SINGLE\"," +
"\"name\":\"张*三\"," +
"\"mobile\":\"131****3453\"," +
"\"certType\":\"IDENTITY_CARD\"," +
"\"certNo\":\"110101********9008\"," +
"\"fixBuyer\":\"false\"," +
"\"preauthTransaction\":\"false\"," +
"\"installmentNumber\":\"12\"," +
"\"retCommParams\":\"{\\\"foodOrderType\\\":\\\"pre_order\\\",\\\"brandId\\\":\\\"3421234\\\",\\\"storeId\\\":\\\"2412343\\\",\\\"tableNo\\\":\\\"341\\\",\\\"parkId\\\":\\\"\\\",\\\"vehicleNo\\\":\\\"\\\"}\"," +
"\"attachedData\":\"test\"," +
"\"clientIp\":\"1.1.1.1\"," +
"\"isEfrcPs\":\"\"," +
"\"psPpt\":\"\"}";
context.setStartTime(System.currentTimeMillis());
context.setRequestId(UUID.randomUUID().toString().replace("-", ""));
context.setOpenServUrl(url.split("/v")[0].concat("/"));
context.setApiServiceUrl(url);
context.setVersion(url.split("/")[3]);
context.setAppId(appId);
context.setAppKey(appKey);
context.setConfigBean(configBean);
context.setServiceCode(url.split("/v")[1].substring(1));
OpenApiCache.getCurrentToken(context);
System.out.println(HttpTransport.getInstance().doPost(context, request));
}
}
