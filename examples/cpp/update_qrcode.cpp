/*
 * update_qrcode.cpp: the update-qrcode request of the ChinaUMS doc page
 * through include/ums.hpp (the C++ twin of examples/update_qrcode.c).
 *
 *   update_qrcode_cpp BASE_URL
 *
 * BASE_URL is the gateway simulator's, as `ums-sandbox --port 0` prints it;
 * `make test-cpp` starts the simulator and passes it (scripts/demo). The
 * client uses the simulator's public demo app (not secrets); against a real
 * gateway ("environment":"test" or "production") put your own appId and
 * appKey there. The request is the doc page's sample made valid: real JSON,
 * fresh dates, installmentNumber "12" (the page's "10" breaks its own rule:
 * 3, 6 or 12). requestTimestamp is left out: the library fills it.
 *
 * Build: c++ -std=c++11 update_qrcode.cpp $(pkg-config --cflags --libs ums)
 */
#include <ctime>
#include <iostream>
#include <string>

#include "ums.hpp"

/* Beijing time (UTC+8, no DST) `days` days from now, formatted with `fmt`. */
static std::string beijing_time(const char *fmt, int days) {
    std::time_t t = std::time(nullptr) + 8 * 3600 + static_cast<std::time_t>(days) * 86400;
    std::tm tm;
    gmtime_r(&t, &tm);
    char out[32];
    std::strftime(out, sizeof out, fmt, &tm);
    return out;
}

int main(int argc, char **argv) {
    if (argc != 2 || std::string(argv[1]).find_first_of("\"\\") != std::string::npos) {
        std::cerr << "usage: update_qrcode_cpp BASE_URL (the simulator's, e.g. http://127.0.0.1:8765)\n";
        return 2;
    }
    const std::string config = std::string("{\"environment\":\"") + argv[1] +
                               "\",\"appId\":\"10037e6f66f2d0f901672aa27d690006\","  // the simulator's demo app
                               "\"appKey\":\"47ace12ae3b348fe93ab46cee97c6fde\"}";   // (public, not secrets)

    const std::string request = R"({"subMchntInfo":"","mid":"898340149000005","tid":"00000001",)"
                                R"("instMid":"QRPAYDEFAULT","qrCodeId":"31942002267733902130410550",)"
                                R"("msgId":"800000000010","srcReserve":"test","billNo":"8888","billDate":")" +
                                beijing_time("%Y-%m-%d", 0) +
                                R"(","billDesc":"updateQRCode","totalAmount":"26",)"
                                R"("goods":"[{\"goodsId\":\"001\",\"goodsName\":\"鸡蛋\",\"quantity\":\"10\",)"
                                R"(\"price\":\"1\",\"goodsCategory\":\"food meterial\",\"body\":\"two eggs\"}]",)"
                                R"("memberId":"20200226001","counterNo":"06","expireTime":")" +
                                beijing_time("%Y-%m-%d %H:%M:%S", 1) +
                                R"(","notifyUrl":"http://www.test.com/notify","returnUrl":"http://www.test.com/return",)"
                                R"("systemId":"31942002267733902130410550","secureTransaction":"false",)"
                                R"("walletOption":"SINGLE","name":"张*三","mobile":"131****3453",)"
                                R"("certType":"IDENTITY_CARD","certNo":"110101********9008","fixBuyer":"false",)"
                                R"("preauthTransaction":"false","installmentNumber":"12",)"
                                R"("retCommParams":"{\"foodOrderType\":\"pre_order\",\"brandId\":\"3421234\",)"
                                R"(\"storeId\":\"2412343\",\"tableNo\":\"341\",\"parkId\":\"\",\"vehicleNo\":\"\"}",)"
                                R"("attachedData":"test","clientIp":"1.1.1.1","isEfrcPs":"","psPpt":""})";
    try {
        ums::Client client(config);
        std::cout << "libums " << ums::version() << ", client " << client.info() << "\n";
        std::cout << client.update_qrcode(request) << "\nupdate-qrcode: UMS_OK\n";
        return 0;
    } catch (const ums::OutcomeUnknownError &e) {
        // The request may have been processed: query the bill, never resend.
        std::cerr << "update-qrcode: outcome unknown, query before deciding: " << e.what() << "\n";
    } catch (const ums::GatewayRejectedError &e) {
        std::cerr << "update-qrcode: refused: " << e.what() << "\n";  // e.g. DUP_ORDER 账单号重复
    } catch (const ums::ValidationError &e) {
        std::cerr << "update-qrcode: fix field " << e.field() << ": " << e.what() << "\n";  // nothing sent
    } catch (const ums::Error &e) {
        std::cerr << "update-qrcode: " << e.what() << "\n";
    }
    return 1;
}
