<?php
// The official PHP sample of the ChinaUMS update-qrcode page, run through
// libums. Changes from the page, and nothing else:
//  - the three require_once lines of the official SDK became our autoloader
//    and a `use` of the drop-in adapter;
//  - the request literal is valid PHP again (the page's ":" had been turned
//    into "=>" inside values, and goods/retCommParams were not PHP), with
//    fresh dates (Beijing time: billDate today, expireTime tomorrow,
//    requestTimestamp now) and installmentNumber "12" (the page's "10" breaks
//    its own rule: 3, 6 or 12);
//  - DataRequest's pattern "/[/]+/s" is not a valid PHP regex (the "/" inside
//    [] ends it): written "/[\/]+/s". The adapter also copes with the
//    unfixed class;
//  - $appid and $appkey ("平台分配", assigned by the platform) are the
//    ums-sandbox simulator's public demo app.
// The URL is the page's production one: it implies production, which
// UMS_ENVIRONMENT may replace with the simulator's loopback URL and nothing
// else (UMS_ENVIRONMENT=test is a ConfigException naming environment). Run it
// against the simulator:
//   target/release/ums-sandbox --port 0     # prints "ums-sandbox listening on http://127.0.0.1:PORT"
//   UMS_ENVIRONMENT=http://127.0.0.1:PORT php examples/php/update_qrcode_sdk_sample.php
// The gateway's update-qrcode answer has errMsg, not errInfo, so the last
// print_r reports an undefined property (a PHP warning), exactly as with
// the official SDK.
require_once __DIR__ . "/../../bindings/php/autoload.php";
use ChinaUms\Compat\DefaultOpenApiClient;
class DataRequest
{
public $url = "";
public $serviceCode = "";
public $apiVersion ="";
public $needToken = true;
public $needDataTag = false;
public $data;
function __construct($data, $url)
{
$this->data = $data;
$apiVersion = preg_split("/[\/]+/s",$url)[2];
$this->apiVersion = $apiVersion;
$serviceCode = strstr($url,$apiVersion);
$this->url = strstr($url,"/".$apiVersion,true);
$this->serviceCode = preg_replace("/^" . preg_quote($apiVersion, "/") . "/", "", $serviceCode);
}
}
class DataDemo{
public function main(){
$appid = "10037e6f66f2d0f901672aa27d690006";
$appkey = "47ace12ae3b348fe93ab46cee97c6fde";
$url = "https://api-mop.chinaums.com/v1/netpay/bills/update-qrcode";
$beijing = new DateTimeZone("+08:00");
$data = json_encode(array("subMchntInfo"=>"",
"requestTimestamp"=>(new DateTime("now", $beijing))->format("Y-m-d H:i:s"),
"mid"=>"898340149000005",
"tid"=>"00000001",
"instMid"=>"QRPAYDEFAULT",
"qrCodeId"=>"31942002267733902130410550",
"msgId"=>"800000000010",
"srcReserve"=>"test",
"billNo"=>"8888",
"billDate"=>(new DateTime("now", $beijing))->format("Y-m-d"),
"billDesc"=>"updateQRCode",
"totalAmount"=>"26",
"goods"=>json_encode(array(array("goodsId"=>"001","goodsName"=>"鸡蛋","quantity"=>"10","price"=>"1","goodsCategory"=>"food meterial","body"=>"two eggs"))),
"memberId"=>"20200226001",
"counterNo"=>"06",
"expireTime"=>(new DateTime("+1 day", $beijing))->format("Y-m-d H:i:s"),
"notifyUrl"=>"http://www.test.com/notify",
"returnUrl"=>"http://www.test.com/return",
"systemId"=>"31942002267733902130410550",
"secureTransaction"=>"false",
"walletOption"=>"SINGLE",
"name"=>"张*三",
"mobile"=>"131****3453",
"certType"=>"IDENTITY_CARD",
"certNo"=>"110101********9008",
"fixBuyer"=>"false",
"preauthTransaction"=>"false",
"installmentNumber"=>"12",
"retCommParams"=>json_encode(array("foodOrderType"=>"pre_order","brandId"=>"3421234","storeId"=>"2412343","tableNo"=>"341","parkId"=>"","vehicleNo"=>"")),
"attachedData"=>"test",
"clientIp"=>"1.1.1.1",
"isEfrcPs"=>"",
"psPpt"=>""));
$reqiest = new DataRequest($data,$url);
$client = new DefaultOpenApiClient();
$content = $client->execute($reqiest,$appid,$appkey);
$obj = json_decode($content);
print_r($obj->errCode);
print_r($obj->errInfo);
}
}
$p = new DataDemo();
$p->main();
?>
